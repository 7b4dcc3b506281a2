import { signalExitCode } from '../lib/errors.js'
import { formatBytes, formatDuration, plural, printable } from '../lib/format.js'
import type { Output } from './output.js'
import type { Summary, VerifyResult } from '../plan/schema.js'
import { changeText, printDiff } from './diff.js'

const shown = 5

/** The end of every run, as a person reads it. `--json` prints the Summary itself instead. */
export function printSummary(summary: Summary, out: Output): void {
  const { color } = out
  const name = summary.profile ?? summary.host
  if (summary.diff) printDiff(summary.diff, out, 'home packages')
  for (const note of summary.notes) out.info(color.dim(`note: ${note}`))
  const sw = summary.switch
  if (sw && !sw.ok) {
    const how = sw.signal ? `stopped by ${sw.signal}` : `home-manager exited with ${sw.exitCode}`
    const current = sw.generation === null ? '' : `; generation ${sw.generation} is current but not fully activated`
    const what = `${name} switch failed after ${formatDuration(sw.durationMs)} (${how}${current})`
    out.error(`${what}${diffPart(summary)}${pushPart(summary)}`)
  } else if (sw) {
    const generation = sw.dryRun
      ? ' (dry run: nothing activated)'
      : sw.generation === null
        ? ''
        : ` (generation ${sw.generation})`
    const how = color.dim(`[${mechanism(summary)}]`)
    const what = `${name} ${sw.dryRun ? 'built' : 'switched'} in ${formatDuration(sw.durationMs)}${generation}`
    out.info(`${color.green('✔')} ${what}${diffPart(summary)}${pushPart(summary)} ${how}`)
  } else {
    const mark = summary.push.failed.length
      ? color.red('✖')
      : summary.push.skippedReason || interruptedBy(summary)
        ? color.yellow('!')
        : color.green('✔')
    out.info(`${mark}${pushPart(summary)} ${color.dim(`[${mechanism(summary)}]`)}`.replace(`${mark} · `, `${mark} `))
  }
  for (const p of summary.push.pushed) out.detail(`  pushed ${p.path} (${formatBytes(p.bytes)})`)
  printExcluded(summary, out)
  printFailures(summary, out)
  if (summary.verify) printVerify(summary.verify, out)
}

function printExcluded(summary: Summary, out: Output): void {
  const { excluded } = summary.push
  if (excluded.length === 0) return
  const list =
    excluded.slice(0, shown).join(', ') + (excluded.length > shown ? `, … (${excluded.length - shown} more)` : '')
  out.info(`${plural(excluded.length, 'path')} not pushed because of push.exclude (or needing such a path): ${list}`)
}

/** `hms verify`, and the verify line of `hms switch --verify`. */
export function printVerify(result: VerifyResult, out: Output): void {
  const { color } = out
  const of =
    result.generation !== null
      ? `generation ${result.generation}`
      : result.roots.length === 1
        ? result.roots[0]!
        : plural(result.roots.length, 'root')
  if (result.error) {
    out.error(`could not verify ${of} in ${result.cache}: ${result.error}`)
    return
  }
  if (result.ok) {
    out.info(`${color.green('✔')} ${result.present}/${result.total} paths of ${of} are in ${result.cache}`)
    return
  }
  const { missing } = result
  out.error(
    `${missing.length} of ${result.total} paths of ${of} are missing from ${result.cache} ` +
      `(${formatBytes(result.missingBytes)}):`,
  )
  for (const m of missing.slice(0, shown)) out.line(`  ${m.path} (${formatBytes(m.bytes)})`)
  if (missing.length > shown) out.line(`  … and ${missing.length - shown} more (hms verify --json lists them all)`)
  out.line(
    '  push the whole closure: ' +
      `hms push --cache ${result.cache}${result.generation !== null ? '' : ` ${result.roots.join(' ')}`}`,
  )
}

/**
 * How the push happened, as the summary's last word: `watch-exec` only when cachix watch-exec ran;
 * a store URL pushed during the build is hms's post-build `hook`.
 */
export function mechanism(summary: Pick<Summary, 'mode' | 'command'>): string {
  return summary.mode === 'watch-exec' && !summary.command.includes('watch-exec') ? 'hook' : summary.mode
}

/**
 * The cache(s) as the summary names them: `hms push --pending` may have pushed to several. Escaped:
 * a name read back from the queue could carry terminal escapes.
 */
export function cacheNames(summary: Pick<Summary, 'cache' | 'caches'>): string {
  return printable(summary.cache ?? (summary.caches?.length ? summary.caches.join(', ') : '-'))
}

/** How the new generation relates to the previous one, beside what was pushed. */
function diffPart(summary: Summary): string {
  return summary.diff ? ` · ${changeText(summary.diff)}` : ''
}

function pushPart(summary: Summary): string {
  const { push, background } = summary
  const cache = cacheNames(summary)
  if (background) return ` · pushing to ${cache} in the background (pid ${background.pid}, log ${background.log})`
  if (!push.attempted) return push.skippedReason ? ` · not pushed: ${push.skippedReason}` : ''
  const present = push.alreadyPresent ? `, ${push.alreadyPresent} already present` : ''
  const stopped = interruptedBy(summary)
  if (stopped) {
    const pushed = push.pushed.length
      ? `pushed ${plural(push.pushed.length, 'path')}, ${formatBytes(push.bytes)}, `
      : ''
    return ` · push to ${cache} interrupted by ${stopped}: ${pushed}${plural(push.queued.length, 'path')} queued`
  }
  if (push.pushed.length === 0 && push.failed.length === 0) return ` · nothing new to push${present} → ${cache}`
  if (push.pushed.length === 0) return ` · push to ${cache} failed`
  return ` · pushed ${plural(push.pushed.length, 'path')}, ${formatBytes(push.bytes)}${present} → ${cache}`
}

function printFailures(summary: Summary, out: Output): void {
  const { failed, queued } = summary.push
  if (failed.length === 0 && queued.length > 0) {
    const why = interruptedBy(summary) ? ' (interrupted)' : ''
    out.warn(
      `${plural(queued.length, 'path')} not confirmed in ${cacheNames(summary)}${why}, queued; ` +
        'hms pushes them on its next run, or now: hms push --pending',
    )
  }
  if (failed.length === 0) return
  const list = failed.slice(0, shown).join(', ') + (failed.length > shown ? `, … (${failed.length - shown} more)` : '')
  out.error(`${plural(failed.length, 'path')} failed to push: ${list}`)
  if (queued.length > 0)
    out.line(`  queued for ${cacheNames(summary)}; hms pushes them on its next run, or now: hms push --pending`)
  else
    out.line(
      `  push them by hand once the cache is reachable: hms push --cache ${cacheNames(summary)} ` +
        `${failed.length === 1 ? failed[0] : '<paths>'}`,
    )
}

/**
 * The signal that stopped the run, if one did: the switch's, or the one whose 128+N is the run's exit
 * code (settle.ts sets it for a signal during the push or its back-off).
 */
export function interruptedBy(summary: Pick<Summary, 'switch' | 'exitCode'>): string | undefined {
  if (summary.switch?.signal) return summary.switch.signal
  return (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).find((signal) => signalExitCode(signal) === summary.exitCode)
}
