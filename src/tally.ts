import { ExitCode, signalExitCode } from './errors.js'
import type { Generation } from './generation.js'
import type { Plan } from './plan.js'
import type { Outcome } from './proc.js'
import type { Summary } from './schema.js'
import { narSizes } from './store.js'
import type { Context, Ran } from './switch.js'

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
  // Interrupted after home-manager linked the new generation: the switch happened, the push did not finish.
  const linked = Boolean(g.after && g.after.path !== g.before?.path)
  const switched = outcome.interrupted ? linked : outcome.exitCode === 0
  if (outcome.interrupted && linked) notes.push(`interrupted by ${outcome.interrupted} after generation ${g.after!.number} was linked; what was not pushed is queued`)
  // Without a terminal cachix prints nothing when an upload finishes: a path counts as pushed only if cachix ended on its own and never marked it ✗.
  const trustworthy = tally && !ran.outcome.signal && !ran.outcome.interrupted
  const confirmed = trustworthy ? [...tally.announced.keys()].filter((p) => !tally.failed.has(p)) : []
  const pushed = await withSizes(confirmed, tally?.announced, ctx.env, tally?.exactSizes)
  const failed = tally ? [...tally.failed, ...(trustworthy ? [] : [...tally.announced.keys()].filter((p) => !tally.failed.has(p)))] : []
  if (tally?.untrusted) notes.push('cachix could not register a post-build hook (you are not a trusted Nix user) and watched the whole store instead')
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
      generation: switched && !plan.dryRun ? (g.after?.number ?? null) : null,
      signal: outcome.signal ?? outcome.interrupted ?? null,
      dryRun: plan.dryRun,
    },
    push: { attempted: Boolean(tally), pushed, failed, bytes: total(pushed), skippedReason: g.skippedReason, alreadyPresent: tally?.alreadyPresent ?? 0, queued: [], excluded: tally ? [...tally.excluded] : [] },
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
export async function withSizes(paths: string[], printed: Map<string, number | undefined> | undefined, env: Env, printedExact = false): Promise<{ path: string; bytes: number }[]> {
  const known = printedExact && paths.every((p) => typeof printed?.get(p) === 'number')
  const exact = known ? new Map<string, number>() : await narSizes(paths, env)
  return paths.map((path) => ({ path, bytes: exact.get(path) ?? printed?.get(path) ?? 0 }))
}

type Env = Record<string, string | undefined>

export function total(pushed: { bytes: number }[]): number {
  return pushed.reduce((sum, p) => sum + p.bytes, 0)
}

/** cachix died by a signal hms did not send, yet a new generation is linked: the switch itself went through. */
function cachixCrashAfterSwitch(ran: Ran, g: Generations, notes: string[]): Outcome | undefined {
  const { outcome, tally } = ran
  if (!tally || !outcome.signal || outcome.interrupted || !g.after || g.after.path === g.before?.path) return undefined
  notes.push(`cachix was killed by ${outcome.signal} after the switch; pushes it had not finished are not counted`)
  return { exitCode: 0 }
}
