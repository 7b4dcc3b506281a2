import { ExitCode, signalExitCode } from '../lib/errors.js'
import type { Generation } from '../local/generation.js'
import type { Plan } from '../plan/plan.js'
import type { Outcome } from '../lib/process.js'
import type { Summary } from '../plan/schema.js'
import { closureOf, narSizes } from '../local/closure.js'
import type { Ran } from '../backends/backend.js'
import { backendFor } from '../backends/for-target.js'
import type { Context } from './context.js'
import type { Env } from '../lib/env.js'

interface Generations {
  before?: Generation
  after?: Generation
  skippedReason: string | null
}

/** What a switch run amounts to: the Summary, before any retry or queueing. */
export async function summarize(plan: Plan, ctx: Context, ran: Ran, g: Generations): Promise<Summary> {
  const { tally } = ran
  const notes = [...plan.notes]
  const outcome = cachixCrashAfterSwitch(ran, g, notes) ?? ran.outcome
  const { switched, current } = switchOutcome(ran, outcome, g, notes)
  // Without a terminal cachix prints nothing when an upload finishes: a path counts as pushed only if
  // cachix ran its report to the end and never marked it ✗, or if the pusher itself saw it land (nix copy).
  const complete = Boolean(tally) && plan.target !== undefined && backendFor(plan.target).complete(ran)
  const confirmed = tally
    ? [...tally.announced.keys()].filter((p) => tally.confirmed.has(p) || (complete && !tally.failed.has(p)))
    : []
  const pushed = await withSizes(confirmed, tally?.announced, ctx.env, tally?.exactSizes)
  const sure = new Set([...confirmed, ...(tally?.confirmed ?? [])])
  const unconfirmed = (p: string) => !sure.has(p)
  const owed = tally ? [...new Set([...tally.failed, ...tally.announced.keys()])].filter(unconfirmed) : []
  // Interrupted: what is not confirmed was cut short, not refused; it is queued, never called failed (issue 12).
  const stopped = ran.outcome.interrupted
  const failed = stopped ? [] : owed
  if (tally?.untrusted)
    notes.push(
      'cachix could not register a post-build hook (you are not a trusted Nix user) ' +
        'and watched the whole store instead',
    )
  return {
    version: ctx.version,
    command: plan.command,
    profile: plan.profile ?? null,
    host: plan.host,
    cache: plan.cache ?? null,
    mode: !plan.push || g.skippedReason ? 'plain' : plan.mode,
    switch: {
      ok: switched,
      exitCode: outcome.exitCode,
      durationMs: Math.round(ran.durationMs),
      generation: (switched || current) && !plan.dryRun ? (g.after?.number ?? null) : null,
      signal: outcome.signal ?? outcome.interrupted ?? null,
      dryRun: plan.dryRun,
    },
    push: {
      attempted: Boolean(tally),
      pushed,
      failed,
      bytes: total(pushed),
      skippedReason: g.skippedReason,
      alreadyPresent: tally?.alreadyPresent ?? 0,
      queued: stopped ? owed : [],
      excluded: tally ? [...tally.excluded] : [],
      outsideGeneration: await outside(pushed, current ? g.after : undefined, ctx.env, tally?.references),
    },
    notes,
    background: null,
    exitCode: exitCodeOf(outcome),
  }
}

/** The run's own exit code; `--strict` on push failures is decided after the retries (settle.ts). */
export function exitCodeOf(outcome: Outcome): number {
  if (outcome.interrupted) return signalExitCode(outcome.interrupted) ?? ExitCode.interrupted
  if (outcome.exitCode !== 0) return outcome.exitCode
  return ExitCode.ok
}

/** Exact NAR sizes from the store when it answers, else what cachix printed (rounded). */
export async function withSizes(
  paths: string[],
  printed: Map<string, number | undefined> | undefined,
  env: Env,
  printedExact = false,
): Promise<{ path: string; bytes: number }[]> {
  const known = printedExact && paths.every((p) => typeof printed?.get(p) === 'number')
  const exact = known ? new Map<string, number>() : await narSizes(paths, env)
  return paths.map((path) => ({ path, bytes: exact.get(path) ?? printed?.get(path) ?? 0 }))
}

export function total(pushed: { bytes: number }[]): number {
  return pushed.reduce((sum, p) => sum + p.bytes, 0)
}

/**
 * What home-manager did, from what it left: `current` when its new generation is the profile's
 * (25.11+ sets the profile before activating, older versions let `activate` set it), `switched` only
 * when home-manager also ran to its end with 0. A generation made current by an activation that then
 * failed or was interrupted is reported with its number, never as a completed switch.
 */
function switchOutcome(
  ran: Ran,
  outcome: Outcome,
  g: Generations,
  notes: string[],
): { switched: boolean; current: boolean } {
  const current = Boolean(g.after && g.after.path !== g.before?.path)
  const finished = ran.finished ?? (outcome.interrupted || outcome.signal ? undefined : outcome.exitCode)
  const switched = finished === 0 || (outcome !== ran.outcome && current)
  const n = g.after?.number
  if (switched && outcome.interrupted && current) {
    notes.push(`interrupted by ${outcome.interrupted} after generation ${n} was linked; what was not pushed is queued`)
  } else if (!switched && current && outcome.interrupted) {
    notes.push(
      `interrupted by ${outcome.interrupted} while home-manager activated generation ${n}: it is current, ` +
        'but its activation did not finish; run the switch again',
    )
  } else if (!switched && current) {
    notes.push(
      `home-manager failed after generation ${n} became current (its activation did not finish); ` +
        'what was built is pushed',
    )
  }
  return { switched, current }
}

/** cachix died by a signal hms did not send, yet a new generation is linked: the switch itself went through. */
function cachixCrashAfterSwitch(ran: Ran, g: Generations, notes: string[]): Outcome | undefined {
  const { outcome, tally } = ran
  if (!tally || !outcome.signal || outcome.interrupted || !g.after || g.after.path === g.before?.path) return undefined
  notes.push(`cachix was killed by ${outcome.signal} after the switch; pushes it had not finished are not counted`)
  return { exitCode: 0 }
}

/**
 * Pushed paths that are not in the new generation's closure (see `outsideGeneration` in schema.ts).
 * A store-URL push already queried the closure of what it pushed, the generation's included when
 * it was built: walked from there, it costs no Nix call.
 */
async function outside(
  pushed: { path: string }[],
  after: Generation | undefined,
  env: Env,
  references?: ReadonlyMap<string, readonly string[]>,
): Promise<string[]> {
  if (!after || pushed.length === 0) return []
  const closure = (references && closureWithin(after.path, references)) ?? (await closureOf(after.path, env))
  return closure ? pushed.map((p) => p.path).filter((p) => !closure.has(p)) : []
}

/** The closure of `root` from known references; undefined when they do not cover it. */
export function closureWithin(
  root: string,
  references: ReadonlyMap<string, readonly string[]>,
): Set<string> | undefined {
  const closure = new Set<string>()
  const todo = [root]
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    if (closure.has(p)) continue
    const refs = references.get(p)
    if (!refs) return undefined
    closure.add(p)
    todo.push(...refs)
  }
  return closure
}
