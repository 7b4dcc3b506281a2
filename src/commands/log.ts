import { formatBytes, formatDuration, printable } from '../format.js'
import { recoverInflightQuietly } from '../inflight.js'
import { Output } from '../output.js'
import { State, type HistoryRecord } from '../state.js'
import type { Command } from './command.js'

export function logLine(r: HistoryRecord): string {
  const when = r.time.replace('T', ' ').slice(0, 19)
  const what = r.command === 'switch' ? `switch${r.generation === null ? '' : ` gen ${r.generation}`}` : 'push'
  const failed = r.failed ? `, ${r.failed} failed` : ''
  const took = r.durationMs ? ` in ${formatDuration(r.durationMs)}` : ''
  // Every field read back from history is escaped: a profile name could carry terminal escapes.
  const pushed = `${r.paths} paths, ${formatBytes(r.bytes)}${failed} → ${r.cache ?? (Array.isArray(r.caches) ? r.caches.join(', ') : '-')}${took}`
  return printable(`${when}  ${(r.profile ?? '-').padEnd(12)} ${what.padEnd(14)} ${String(r.mode).padEnd(10)} ${pushed}  exit ${r.exitCode}`)
}

const log: Command = async (args, io) => {
  const { options } = args
  const out = await Output.create({ stdout: io.stdout, stderr: io.stderr, env: io.env, quiet: options.quiet, verbose: options.verbose, json: options.json })
  const state = new State(io.env)
  await recoverInflightQuietly(state, io.env, out)
  const { entries, warning } = state.readHistory()
  if (warning) out.warn(printable(warning))
  const recent = entries.slice(-(options.lines ?? 10))
  if (options.json) out.json(recent)
  else if (recent.length === 0) out.info('no runs recorded yet')
  else io.stdout.write(recent.map(logLine).join('\n') + '\n')
  return 0
}

export default log
