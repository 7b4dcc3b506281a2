import { formatBytes, plural } from '../lib/format.js'
import type { Output } from './output.js'
import type { PackageDiff } from '../plan/schema.js'

/** Lines of packages shown before the rest is counted: the summary stays on one screen. */
const shown = 10

/** `3 packages changed`, the summary line's part and `hms diff`'s heading. */
export function changeText(diff: PackageDiff): string {
  const count = diff.added.length + diff.removed.length + diff.changed.length
  return count === 0 ? 'no package changed' : `${plural(count, 'package')} changed`
}

/**
 * The diff as a person reads it: a heading with the closure's size change, then one line per
 * package, version changes first (`~ ripgrep 14.1 → 14.2`, `+ fd 9.0`, `- git 2.44`).
 */
export function printDiff(diff: PackageDiff, out: Output, heading: string): void {
  const { color } = out
  const { closureBytesBefore: before, closureBytesAfter: after } = diff
  const delta = `${after >= before ? '+' : '-'}${formatBytes(Math.abs(after - before))}`
  out.info(`${heading} · closure ${formatBytes(before)} → ${formatBytes(after)} (${delta})`)
  const lines = [
    ...diff.changed.map((c) => `${color.yellow('~')} ${c.name} ${c.from} → ${c.to}`),
    ...diff.added.map((a) => `${color.green('+')} ${a.name} ${a.version}`),
    ...diff.removed.map((r) => `${color.red('-')} ${r.name} ${r.version}`),
  ]
  for (const line of lines.slice(0, shown)) out.info(`  ${line}`)
  if (lines.length > shown) out.info(color.dim(`  … and ${lines.length - shown} more (--json lists them all)`))
}
