import { formatBytes, plural, printable, stripAnsi } from '../../lib/format.js'
import { runForeground } from '../../lib/process.js'
import { closureSize } from '../../local/closure.js'
import { cachixPushCommand } from '../../plan/plan.js'
import { emptyTally, type PushAttempt, type PushContext, type PushRequest } from '../backend.js'
import { tallyEvent } from './cachix.js'
import { ReportParser, type ReportEvent } from './report.js'

/** One `cachix push` of whole closures; what cachix reports is tallied, what it says beyond that held back. */
export async function cachixPushOnce(request: PushRequest, ctx: PushContext): Promise<PushAttempt> {
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
        void ctx.out.progress(
          () => `pushing to ${printable(request.cache)}: ${plural(tally.announced.size, 'path')}, ${size}`,
        )
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
  const reason = ok ? undefined : (tally.refusal ?? shorten(Buffer.concat(unknown).toString('utf8')))
  return { ok, tally, alreadyPresent, outcome, ...(reason ? { reason } : {}) }
}

/** The last line cachix printed, without colours, cut to fit one line of hms's own. */
function shorten(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const last = stripAnsi(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1)
  if (!last) return undefined
  return last.length > 120 ? `${last.slice(0, 117)}…` : last
}
