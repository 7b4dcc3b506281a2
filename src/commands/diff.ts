import { queryClosures } from '../diff/closures.js'
import { computeDiff } from '../diff/compute.js'
import { changeText, diffLines } from '../ui/diff.js'
import { colorsFor } from '../ui/output.js'
import { selectSides, type Side } from '../diff/select.js'
import { ExitCode } from '../lib/errors.js'
import { writeDocument } from '../lib/streams.js'
import type { DiffDocument } from '../plan/schema.js'
import type { Command } from './command.js'

/**
 * `hms diff [A] [B]`: two generations' packages compared, from the local store. The diff is the
 * command's output, so it goes to stdout (`| less`, `> file`), coloured only when stdout is a
 * terminal; -q keeps the heading line (the count and the size change), -v lists every package.
 */
const diff: Command = async (args, io, { version }) => {
  const { positionals: words, options } = args
  const [before, after] = selectSides(words, io)
  const [old, now] = await queryClosures([before.path, after.path], io.env)
  const result = computeDiff(old!, now!)
  if (options.json) {
    const document: DiffDocument = { version, before, after, diff: result }
    writeDocument(io.stdout, document)
    return ExitCode.ok
  }
  const color = await colorsFor(io.env, io.stdout)
  const heading = `${sides(before, after, words)} · ${changeText(result)}`
  const lines = diffLines(result, color, heading, { limit: options.verbose ? Infinity : 10, rest: '-v lists them all' })
  io.stdout.write(`${(options.quiet ? lines.slice(0, 1) : lines).join('\n')}\n`)
  return ExitCode.ok
}

/**
 * `generation 41 → 57`; a side the profile does not list is named as it was typed (`./result`),
 * shortened to 20 characters, so the heading stays within 120 even for a typed store path.
 */
function sides(before: Side, after: Side, words: string[]): string {
  if (before.generation !== null && after.generation !== null) {
    return `generation ${before.generation} → ${after.generation}`
  }
  const name = (side: Side, word: string | undefined) =>
    side.generation === null ? short(word ?? side.path) : `generation ${side.generation}`
  return `${name(before, words[0])} → ${name(after, words[1])}`
}

function short(word: string): string {
  if (word.length <= 20) return word
  const store = /^\/nix\/store\/([0-9a-z]{8})/.exec(word)
  return store ? `/nix/store/${store[1]}…` : `…${word.slice(-19)}`
}

export default diff
