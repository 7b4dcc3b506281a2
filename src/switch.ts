import { withBypass, emptyTally, tallyEvent, type PushTally } from './cachix.js'
import { ExitCode, HmsError, signalExitCode } from './errors.js'
import { currentGeneration, type Generation } from './generation.js'
import type { Output } from './output.js'
import type { Plan } from './plan.js'
import { checkCachix, requireHomeManager, type PushBlocker } from './preflight.js'
import { runGroup, type Outcome } from './proc.js'
import { ReportParser } from './report.js'
import { narSizes } from './store.js'
import type { Summary } from './schema.js'
import { formatBytes, plural } from './format.js'

export interface Context {
  env: Record<string, string | undefined>
  cwd: string
  out: Output
  version: string
  json: boolean
}

export interface Ran {
  outcome: Outcome
  tally?: PushTally
  durationMs: number
}

/** Carries out a switch plan: preflight, the switch (under cachix when pushing), then the tally. */
export async function runSwitch(plan: Plan, ctx: Context): Promise<Summary> {
  requireHomeManager(ctx.env)
  const notes = [...plan.notes]
  let skippedReason: string | null = plan.push ? null : 'disabled (--no-push)'
  const blocker = plan.push ? await checkCachix(ctx.env) : undefined
  if (blocker) skippedReason = skipPush(blocker.message, blocker.fix, plan, ctx)
  const before = currentGeneration(ctx.env)
  let ran = await (plan.push && !blocker ? watchExec(plan, ctx) : plainSwitch(plan, ctx))
  if (ran.tally?.refusal && ran.outcome.exitCode !== 0 && !ran.outcome.interrupted && sameGeneration(before, currentGeneration(ctx.env))) {
    // cachix refused before starting home-manager: the switch must still happen.
    skippedReason = skipPush(`cachix refused to run: ${ran.tally.refusal}`, 'check the cache name and your access (cachix authtoken)', plan, ctx)
    ran = await plainSwitch(plan, ctx)
  }
  const after = currentGeneration(ctx.env)
  return summarize(plan, ctx, ran, { before, after, skippedReason, notes })
}

function skipPush(message: string, fix: string, plan: Plan, ctx: Context): string {
  if (plan.strict) throw new HmsError(`${message}; not switching because of --strict`, { exitCode: ExitCode.usage, hint: fix })
  ctx.out.warn(`${message} — switching without pushing (${fix})`)
  return message
}

function sameGeneration(a: Generation | undefined, b: Generation | undefined): boolean {
  return a?.number === b?.number && a?.path === b?.path
}

function childStdout(ctx: Context): number | 'inherit' {
  return ctx.json ? 2 : 'inherit'
}

async function plainSwitch(plan: Plan, ctx: Context): Promise<Ran> {
  const started = performance.now()
  const [file, ...args] = plan.homeManager
  const outcome = await runGroup(file!, args, { env: ctx.env, cwd: ctx.cwd, stdio: ['inherit', childStdout(ctx), 'inherit'] })
  return { outcome, durationMs: performance.now() - started }
}

async function watchExec(plan: Plan, ctx: Context): Promise<Ran> {
  const started = performance.now()
  const tally = emptyTally()
  const parser = new ReportParser()
  const { out } = ctx
  const onEvents = (events: ReturnType<ReportParser['feed']>) => {
    for (const event of events) {
      if (out.options.verbose && event.kind !== 'text') out.detail(`cachix: ${describe(event)}`)
      if (!tallyEvent(tally, event) && event.kind === 'text') out.raw(event.raw)
      else if (event.kind === 'pushing') void out.progress(`pushing to ${plan.cache}: ${plural(tally.announced.size, 'path')}, ${formatBytes(sum(tally.announced.values()))}`)
    }
  }
  const [file, ...args] = withBypass(plan.command)
  const outcome = await runGroup(file!, args, {
    env: ctx.env,
    cwd: ctx.cwd,
    stdio: ['inherit', childStdout(ctx), 'pipe', 2],
    onStderr: (chunk) => onEvents(parser.feed(chunk)),
  })
  onEvents(parser.end())
  out.stopProgress()
  return { outcome, tally, durationMs: performance.now() - started }
}

function describe(event: Exclude<ReturnType<ReportParser['feed']>[number], { kind: 'text' }>): string {
  switch (event.kind) {
    case 'pushing': return `${event.retry ? `retry #${event.retry} ` : ''}pushing ${event.path}${event.bytes === undefined ? '' : ` (${formatBytes(event.bytes)})`}`
    case 'pushed': return `pushed ${event.path}`
    case 'failed': return `failed ${event.path}`
    case 'header': return `${event.total} paths (${event.present} already present) → ${event.cache}`
    default: return event.kind
  }
}

function sum(values: Iterable<number | undefined>): number {
  let total = 0
  for (const v of values) total += v ?? 0
  return total
}

/** cachix died by a signal hms did not send, yet a new generation is linked: the switch itself went through. */
function cachixCrashAfterSwitch(ran: Ran, g: Generations): Outcome | undefined {
  const { outcome, tally } = ran
  if (!tally || !outcome.signal || outcome.interrupted || !g.after || g.after.path === g.before?.path) return undefined
  g.notes.push(`cachix was killed by ${outcome.signal} after the switch; pushes it had not finished are not counted`)
  return { exitCode: 0 }
}

interface Generations {
  before?: Generation
  after?: Generation
  skippedReason: string | null
  notes: string[]
}

async function summarize(plan: Plan, ctx: Context, ran: Ran, g: Generations): Promise<Summary> {
  const { tally } = ran
  const outcome = cachixCrashAfterSwitch(ran, g) ?? ran.outcome
  const switched = outcome.exitCode === 0 && !outcome.interrupted
  // Without a terminal cachix prints nothing when an upload finishes: a path counts as pushed only if cachix ended on its own and never marked it ✗.
  const trustworthy = tally && !ran.outcome.signal && !ran.outcome.interrupted
  const confirmed = trustworthy ? [...tally.announced.keys()].filter((p) => !tally.failed.has(p)) : []
  const exact = await narSizes(confirmed, ctx.env)
  const pushed = confirmed.map((path) => ({ path, bytes: exact.get(path) ?? tally?.announced.get(path) ?? 0 }))
  const failed = tally ? [...tally.failed, ...(trustworthy ? [] : [...tally.announced.keys()].filter((p) => !tally.failed.has(p)))] : []
  if (tally?.untrusted) g.notes.push('cachix could not register a post-build hook (you are not a trusted Nix user) and watched the whole store instead')
  const exitCode = outcome.interrupted
    ? (signalExitCode(outcome.interrupted) ?? ExitCode.interrupted)
    : outcome.exitCode !== 0 ? outcome.exitCode
    : failed.length > 0 && plan.strict ? ExitCode.pushFailed : ExitCode.ok
  return {
    version: ctx.version,
    command: tally ? plan.command : plan.homeManager,
    profile: plan.profile ?? null,
    host: plan.host,
    cache: plan.cache ?? null,
    mode: tally ? 'watch-exec' : 'plain',
    switch: {
      ok: switched,
      exitCode: outcome.exitCode,
      durationMs: Math.round(ran.durationMs),
      generation: g.after && g.after.path !== g.before?.path ? g.after.number : (switched ? g.after?.number ?? null : null),
      signal: outcome.signal ?? outcome.interrupted ?? null,
    },
    push: {
      attempted: Boolean(tally),
      pushed,
      failed,
      bytes: pushed.reduce((total, p) => total + p.bytes, 0),
      skippedReason: g.skippedReason,
    },
    notes: g.notes,
    exitCode,
  }
}
