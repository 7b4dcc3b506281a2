import { formatBytes, formatDuration, plural } from './format.js'
import type { Output } from './output.js'
import type { Summary } from './schema.js'

const shown = 5

/** The end of every run, as a person reads it. `--json` prints the Summary itself instead. */
export function printSummary(summary: Summary, out: Output): void {
  const { color } = out
  const name = summary.profile ?? summary.host
  for (const note of summary.notes) out.info(color.dim(`note: ${note}`))
  const sw = summary.switch
  if (sw && !sw.ok) {
    const how = sw.signal ? `stopped by ${sw.signal}` : `home-manager exited with ${sw.exitCode}`
    out.error(`${name} switch failed after ${formatDuration(sw.durationMs)} (${how})${pushPart(summary)}`)
  } else if (sw) {
    const generation = sw.generation === null ? '' : ` (generation ${sw.generation})`
    out.info(`${color.green('✔')} ${name} switched in ${formatDuration(sw.durationMs)}${generation}${pushPart(summary)} ${color.dim(`[${summary.mode}]`)}`)
  } else {
    const mark = summary.push.failed.length ? color.red('✖') : color.green('✔')
    out.info(`${mark}${pushPart(summary)} ${color.dim(`[${summary.mode}]`)}`.replace(`${mark} · `, `${mark} `))
  }
  for (const p of summary.push.pushed) out.detail(`  pushed ${p.path} (${formatBytes(p.bytes)})`)
  printFailures(summary, out)
}

function pushPart(summary: Summary): string {
  const { push, cache, background } = summary
  if (background) return ` · pushing to ${cache} in the background (pid ${background.pid}, log ${background.log})`
  if (!push.attempted) return push.skippedReason ? ` · not pushed: ${push.skippedReason}` : ''
  const present = push.alreadyPresent ? `, ${push.alreadyPresent} already present` : ''
  if (push.pushed.length === 0 && push.failed.length === 0) return ` · nothing new to push${present} → ${cache}`
  return ` · pushed ${plural(push.pushed.length, 'path')}, ${formatBytes(push.bytes)}${present} → ${cache}`
}

function printFailures(summary: Summary, out: Output): void {
  const { failed, queued } = summary.push
  if (failed.length === 0) return
  const list = failed.slice(0, shown).join(', ') + (failed.length > shown ? `, … (${failed.length - shown} more)` : '')
  out.error(`${plural(failed.length, 'path')} failed to push: ${list}`)
  if (queued.length > 0) out.line(`  queued for ${summary.cache}; hms pushes them on its next run, or now: hms push --pending`)
  else out.line(`  push them by hand once the cache is reachable: cachix push ${summary.cache} ${failed.length === 1 ? failed[0] : '<paths>'}`)
}
