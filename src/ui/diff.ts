import { formatBytes, plural } from '../lib/format.js'
import type { Colors, Output } from './output.js'
import type { PackageDiff } from '../plan/schema.js'

/** Lines of packages shown before the rest is counted: the summary stays on one screen. */
const shown = 10

/** `3 packages changed`, the summary line's part and `hms diff`'s heading: one per name. */
export function changeText(diff: PackageDiff): string {
  const count = diff.added.length + diff.removed.length + diff.changed.length
  return count === 0 ? 'no package changed' : `${plural(count, 'package')} changed`
}

export interface DiffLayout {
  /** How many package lines to show before `… and N more` (Infinity: all). */
  limit: number
  /** Where to find the rest, said in the `… and N more` line. */
  rest: string
}

/**
 * The diff as a person reads it: a heading with the closure's size change, then one line per
 * package, version changes first (`~ ripgrep 14.1 → 14.2`, `+ fd 9.0`, `- git 2.44`).
 */
export function diffLines(diff: PackageDiff, color: Colors, heading: string, layout: DiffLayout): string[] {
  const { closureBytesBefore: before, closureBytesAfter: after } = diff
  const delta = `${after >= before ? '+' : '-'}${formatBytes(Math.abs(after - before))}`
  const lines = [
    ...diff.changed.map((c) => `${color.yellow('~')} ${c.name} ${c.from} → ${c.to}`),
    ...diff.added.map((a) => `${color.green('+')} ${a.name} ${a.version}`),
    ...diff.removed.map((r) => `${color.red('-')} ${r.name} ${r.version}`),
  ]
  const more = lines.length - layout.limit
  return [
    `${heading} · closure ${formatBytes(before)} → ${formatBytes(after)} (${delta})`,
    ...lines.slice(0, layout.limit).map((line) => `  ${line}`),
    ...(more > 0 ? [color.dim(`  … and ${more} more (${layout.rest})`)] : []),
  ]
}

/** The diff a switch prints before its summary, on stderr with the rest of its report; -q hides it. */
export function printDiff(diff: PackageDiff, out: Output, heading: string): void {
  for (const line of diffLines(diff, out.color, heading, { limit: shown, rest: 'hms diff -v lists them all' })) {
    out.info(line)
  }
}
