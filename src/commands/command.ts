import type { Writable } from 'node:stream'
import { Output } from '../ui/output.js'
import type { HmsOptions, ParsedArgs } from '../plan/options.js'

/** The process a command runs in: argv, environment and streams, passed in so tests can give their own. */
export interface Io {
  argv: string[]
  env: Record<string, string | undefined>
  cwd: string
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  hostname: string
  /** How to run hms again, for background pushes: node and this script. */
  self: string[]
}

export interface CommandContext {
  version: string
}

/** A subcommand: parsed args and the world in, exit code out. */
export type Command = (args: ParsedArgs, io: Io, ctx: CommandContext) => Promise<number>

/** The command's output, as its options say: quiet, verbose, --json. */
export function outputFor(
  io: Io,
  { quiet, verbose, json }: Pick<HmsOptions, 'quiet' | 'verbose' | 'json'>,
): Promise<Output> {
  return Output.create({ stdout: io.stdout, stderr: io.stderr, env: io.env, quiet, verbose, json })
}
