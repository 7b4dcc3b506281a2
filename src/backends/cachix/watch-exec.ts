import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatBytes, plural } from '../../lib/format.js'
import { runForeground } from '../../lib/process.js'
import type { Plan } from '../../plan/plan.js'
import { emptyTally, type PushContext, type Watched } from '../backend.js'
import { tallyEvent, withBypass } from './cachix.js'
import { ReportParser, type ReportEvent } from './report.js'

/** home-manager under `cachix watch-exec`: cachix pushes what it builds; its report is tallied as it comes. */
export async function watchExec(plan: Plan, ctx: PushContext): Promise<Watched> {
  const started = performance.now()
  const tally = emptyTally()
  const parser = new ReportParser()
  const { out } = ctx
  // --verbose shows cachix's own lines as they come; otherwise only what hms does not understand.
  const verbose = out.options.verbose && !out.options.quiet
  let bytes = 0
  // cachix reports pushes once home-manager has exited: the first report ends the switch's own time.
  let switchedAt: number | undefined
  // Watching the whole store, cachix reports while home-manager still writes: no spinner until it stops watching.
  let watchingStore = false
  const onEvents = (events: ReportEvent[]) => {
    for (const event of events) {
      if (event.kind === 'pushing' || event.kind === 'failed') switchedAt ??= performance.now()
      if (event.kind === 'untrusted') watchingStore = true
      if (event.kind === 'text') watchingStore = watching(event.raw, watchingStore)
      const known = tally.announced.size
      const understood = tallyEvent(tally, event)
      if (!understood && event.kind === 'text' && !verbose) out.raw(event.raw)
      else if (event.kind === 'pushing') {
        if (tally.announced.size > known) bytes += event.bytes ?? 0
        const text = () => `pushing to ${plan.cache}: ${plural(tally.announced.size, 'path')}, ${formatBytes(bytes)}`
        if (!watchingStore) void out.progress(text)
      }
    }
  }
  const statusDir = mkdtempSync(join(tmpdir(), 'hms-switch-'))
  const statusFile = join(statusDir, 'home-manager.status')
  const [file, ...args] = withBypass(plan.command, statusFile)
  const outcome = await runForeground(file!, args, {
    env: ctx.env,
    cwd: ctx.cwd,
    stdio: ['inherit', out.childStdout, 'pipe', 2],
    delegatesCtlc: true,
    onStdout: out.relay,
    onStderr: (chunk) => {
      if (verbose) out.raw(chunk)
      onEvents(parser.feed(chunk))
    },
  })
  onEvents(parser.end())
  out.stopProgress()
  const finished = readStatus(statusFile)
  rmSync(statusDir, { recursive: true, force: true })
  return { outcome, tally, durationMs: (switchedAt ?? performance.now()) - started, finished }
}

/** What the bypass wrapper wrote: home-manager's exit status, or nothing if it never finished. */
function readStatus(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim()
    return /^\d+$/.test(text) ? Number(text) : undefined
  } catch {
    return undefined
  }
}

/** cachix's store mode starts with `Watching /nix/store…` and ends with `Stopped watching /nix/store…`. */
function watching(raw: Buffer, before: boolean): boolean {
  const text = raw.toString('latin1')
  if (text.includes('Stopped watching /nix/store')) return false
  return before || text.includes('Watching /nix/store')
}
