import { emptyTally, tallyEvent, type PushTally } from './cachix/cachix.js'
import { interruption, pause } from '../lib/interrupt.js'
import { formatBytes, plural, printable } from '../lib/format.js'
import type { Output } from '../ui/output.js'
import { runForeground, type Outcome } from '../lib/process.js'
import { ReportParser, type ReportEvent } from './cachix/report.js'
import { closureSize } from '../local/closure.js'
import { cachixPushCommand, type Plan } from '../plan/plan.js'
import { storePushRoots } from './store/pusher.js'
import type { Target } from '../plan/target.js'

export interface PushRequest {
  cache: string
  /** Roots: cachix pushes each one's closure. */
  paths: string[]
  jobs?: number
  compressionMethod?: string
  retries: number
  /** A store URL is pushed with nix copy instead of cachix (issue 4). */
  target?: Target
  exclude?: readonly string[]
}

/** The part of a request that says where and how a plan pushes. */
export function pushTarget(plan: Pick<Plan, 'target' | 'exclude'>): Pick<PushRequest, 'target' | 'exclude'> {
  return { target: plan.target, exclude: plan.exclude }
}

export interface PushResult {
  ok: boolean
  /** The last thing cachix said that hms did not understand, for the message when the push failed. */
  reason?: string
  tally: PushTally
  alreadyPresent: number
  outcome: Outcome
  attempts: number
}

interface Ctx {
  env: Record<string, string | undefined>
  cwd: string
  out: Output
}

/** Backoff before retry n (1-based): 1 s, 2 s, 4 s … scaled by HMS_RETRY_BASE_MS for tests. */
export function backoffMs(attempt: number, env: Record<string, string | undefined>): number {
  const base = Number(env.HMS_RETRY_BASE_MS ?? 1000)
  return (Number.isFinite(base) && base >= 0 ? base : 1000) * 2 ** (attempt - 1)
}

/**
 * `cachix push` of whole closures, retried with exponential backoff; an interrupt stops the retries.
 * `retrying` means the first attempt already failed elsewhere (inside watch-exec), so start by waiting.
 */
export async function cachixPush(request: PushRequest, ctx: Ctx, retrying = false): Promise<PushResult> {
  let attempts = 0
  let lastReason: string | undefined
  let last: Omit<PushResult, 'attempts'> | undefined
  for (;;) {
    if (retrying || attempts > 0) {
      const retry = attempts + (retrying ? 1 : 0)
      const wait = backoffMs(retry, ctx.env)
      ctx.out.warn(`push to ${printable(request.cache)} failed${lastReason ? ` (${lastReason})` : ''}; retry ${retry}/${request.retries} in ${(wait / 1000).toFixed(1)}s`)
      await pause(wait)
    }
    // A signal during the back-off (or before the first attempt) ends the retries: nothing more starts.
    const signal = interruption()
    if (signal) {
      const outcome = { ...(last?.outcome ?? { exitCode: 1 }), interrupted: signal }
      return { ...(last ?? notPushed(lastReason)), outcome, ok: false, attempts }
    }
    const result = await pushOnce(request, ctx)
    last = result
    lastReason = result.reason
    attempts++
    const retriesLeft = request.retries - (attempts - (retrying ? 0 : 1))
    // A refusal (no such cache, no access) is not a network hiccup: retrying cannot help.
    if (result.ok || result.outcome.interrupted || result.tally.refusal || retriesLeft <= 0) return { ...result, attempts }
  }
}

function notPushed(reason: string | undefined): Omit<PushResult, 'attempts'> {
  return { ok: false, tally: emptyTally(), alreadyPresent: 0, outcome: { exitCode: 1 }, ...(reason ? { reason } : {}) }
}

async function pushOnce(request: PushRequest, ctx: Ctx): Promise<Omit<PushResult, 'attempts'>> {
  const { target } = request
  if (target?.kind === 'store') {
    const compressionMethod = request.compressionMethod === 'xz' || request.compressionMethod === 'zstd' ? request.compressionMethod : undefined
    return storePushRoots(request.paths, { target, label: printable(request.cache), exclude: request.exclude ?? [], ...(compressionMethod ? { compressionMethod } : {}) }, ctx)
  }
  const tally = emptyTally()
  let alreadyPresent = 0
  let nothing = false
  let bytes = 0
  const parser = new ReportParser()
  // What cachix says beyond its report is held back: shown as it is when the push worked, or under
  // --verbose; boiled down to one line in hms's own message when it failed (an HTTP error is a screenful).
  const unknown: Buffer[] = []
  const verbose = ctx.out.options.verbose && !ctx.out.options.quiet
  const onEvents = (events: ReportEvent[]) => {
    for (const event of events) {
      if (event.kind === 'header') alreadyPresent = event.present
      if (event.kind === 'nothing') nothing = true
      if (event.kind === 'text' && event.raw.toString().trim() === '') continue
      const known = tally.announced.size
      if (!tallyEvent(tally, event) && event.kind === 'text') {
        if (verbose) ctx.out.raw(event.raw)
        else unknown.push(event.raw)
      } else if (event.kind === 'pushing' || event.kind === 'pushed') {
        if (tally.announced.size > known) bytes += event.bytes ?? 0
        // cachix's output is all read by hms here: nothing else writes to the terminal.
        const size = formatBytes(bytes)
        void ctx.out.progress(() => `pushing to ${printable(request.cache)}: ${plural(tally.announced.size, 'path')}, ${size}`)
      }
    }
  }
  const [file, ...args] = cachixPushCommand(request)
  const outcome = await runForeground(file!, args, {
    env: ctx.env,
    cwd: ctx.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    onStdout: (chunk) => onEvents(parser.feed(chunk)),
    onStderr: (chunk) => onEvents(parser.feed(chunk)),
  })
  onEvents(parser.end())
  ctx.out.stopProgress()
  const ok = outcome.exitCode === 0 && !outcome.interrupted && tally.failed.size === 0
  if (ok) for (const raw of unknown) ctx.out.raw(raw)
  // "Nothing to push" comes without a count: everything in the closures was already there.
  if (ok && nothing) alreadyPresent = (await closureSize(request.paths, ctx.env)) ?? alreadyPresent
  const reason = ok ? undefined : tally.refusal ?? shorten(Buffer.concat(unknown).toString('utf8'))
  return { ok, tally, alreadyPresent, outcome, ...(reason ? { reason } : {}) }
}

/** The last line cachix printed, without colours, cut to fit one line of hms's own. */
function shorten(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const last = text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').split('\n').map((l) => l.trim()).filter(Boolean).at(-1)
  if (!last) return undefined
  return last.length > 120 ? `${last.slice(0, 117)}…` : last
}
