import { formatBytes, formatDuration, printable } from '../lib/format.js'
import type { HistoryRecord } from './lines.js'

/** One run of history.jsonl as `hms log` and `hms status` show it. */
export function logLine(r: HistoryRecord): string {
  const when = r.time.replace('T', ' ').slice(0, 19)
  const what = r.command === 'switch' ? `switch${r.generation === null ? '' : ` gen ${r.generation}`}` : 'push'
  const failed = r.failed ? `, ${r.failed} failed` : ''
  const took = r.durationMs ? ` in ${formatDuration(r.durationMs)}` : ''
  // Every field read back from history is escaped: a profile name could carry terminal escapes.
  const pushed = `${r.paths} paths, ${formatBytes(r.bytes)}${failed} → ${r.cache ?? r.caches?.join(', ') ?? '-'}${took}`
  return printable(
    `${when}  ${(r.profile ?? '-').padEnd(12)} ${what.padEnd(14)} ${r.mode.padEnd(10)} ${pushed}  exit ${r.exitCode}`,
  )
}
