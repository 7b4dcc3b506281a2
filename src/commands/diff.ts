import { queryClosures } from '../diff/closures.js'
import { computeDiff } from '../diff/compute.js'
import { changeText, printDiff } from '../ui/diff.js'
import { selectSides, type Side } from '../diff/select.js'
import { ExitCode } from '../lib/errors.js'
import type { DiffDocument } from '../plan/schema.js'
import { outputFor, type Command } from './command.js'

/** `hms diff [A] [B]`: two generations' packages compared, from the local store. */
const diff: Command = async (args, io, { version }) => {
  const { options } = args
  const [before, after] = selectSides(args.positionals, io)
  const { quiet, verbose, json } = options
  const out = await outputFor(io, { quiet, verbose, json })
  const [old, now] = await queryClosures([before.path, after.path], io.env)
  const result = computeDiff(old!, now!)
  if (json) {
    const document: DiffDocument = { version, before, after, diff: result }
    out.json(document)
  } else printDiff(result, out, `${sides(before, after)} · ${changeText(result)}`)
  return ExitCode.ok
}

/** `generation 41 → 57`, else the store paths. */
function sides(before: Side, after: Side): string {
  if (before.generation !== null && after.generation !== null) {
    return `generation ${before.generation} → ${after.generation}`
  }
  const name = (side: Side) => (side.generation === null ? side.path : `generation ${side.generation}`)
  return `${name(before)} → ${name(after)}`
}

export default diff
