import { queryClosures } from '../diff/closures.js'
import { computeDiff } from '../diff/compute.js'
import { changeText, printDiff } from '../ui/diff.js'
import { selectSides, type Side } from '../diff/select.js'
import { ExitCode } from '../lib/errors.js'
import { Output } from '../ui/output.js'
import type { DiffDocument } from '../plan/schema.js'
import type { Command } from './command.js'

/** `hms diff [A] [B]`: two generations' packages compared, from the local store. */
const diff: Command = async (args, io, { version }) => {
  const { options } = args
  const [before, after] = selectSides(args.positionals, io)
  const out = await Output.create({ stdout: io.stdout, stderr: io.stderr, env: io.env, quiet: options.quiet, verbose: options.verbose, json: options.json })
  const [old, now] = await queryClosures([before.path, after.path], io.env)
  const result = computeDiff(old!, now!)
  if (options.json) {
    const document: DiffDocument = { version, before, after, diff: result }
    out.json(document)
  } else printDiff(result, out, `${sideName(before)} → ${sideName(after)} · ${changeText(result)}`)
  return ExitCode.ok
}

function sideName(side: Side): string {
  return side.generation === null ? side.path : `generation ${side.generation}`
}

export default diff
