import { formatBytes, formatDuration, plural } from './format.js'
import type { Output } from './output.js'
import type { Summary } from './schema.js'

const shown = 5

/** The end of every run, as a person reads it. `--json` prints the Summary itself instead. */
export function printSummary(summary: Summary, out: Output): void {
  const { color } = out
  const name = summary.profile ?? summary.host
  for (const note of summary.notes) out.info(color.dim(`note: ${note}`))
  if (!summary.switch.ok) {
    const how = summary.switch.signal ? `stopped by ${summary.switch.signal}` : `home-manager exited with ${summary.switch.exitCode}`
    out.error(`${name} switch failed after ${formatDuration(summary.switch.durationMs)} (${how})${pushPart(summary)}`)
    printFailures(summary, out)
    return
  }
  const generation = summary.switch.generation === null ? '' : ` (generation ${summary.switch.generation})`
  out.info(`${color.green('✔')} ${name} switched in ${formatDuration(summary.switch.durationMs)}${generation}${pushPart(summary)}`)
  for (const p of summary.push.pushed) out.detail(`  pushed ${p.path} (${formatBytes(p.bytes)})`)
  printFailures(summary, out)
}

function pushPart(summary: Summary): string {
  const { push, cache } = summary
  if (!push.attempted) return push.skippedReason ? ` · not pushed: ${push.skippedReason}` : ''
  if (push.pushed.length === 0 && push.failed.length === 0) return ` · nothing new to push → ${cache}`
  return ` · pushed ${plural(push.pushed.length, 'path')}, ${formatBytes(push.bytes)} → ${cache}`
}

function printFailures(summary: Summary, out: Output): void {
  const { failed } = summary.push
  if (failed.length === 0) return
  const list = failed.slice(0, shown).join(', ') + (failed.length > shown ? `, … (${failed.length - shown} more)` : '')
  out.error(`${plural(failed.length, 'path')} failed to push: ${list}`)
  out.line(`  push them by hand once the cache is reachable: cachix push ${summary.cache} ${failed.length === 1 ? failed[0] : '<paths>'}`)
}
