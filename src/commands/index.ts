import type { ParsedArgs, Subcommand } from '../args.js'
import type { Io } from '../cli.js'

export interface CommandContext {
  version: string
}

/** A subcommand: parsed args and the world in, exit code out. */
export type Command = (args: ParsedArgs, io: Io, ctx: CommandContext) => Promise<number>

/** Loaded on demand, so `hms --version` never pays for the rest. */
export const commands: Record<Exclude<Subcommand, 'help'>, () => Promise<{ default: Command }>> = {
  switch: () => import('./switch.js'),
  push: () => import('./push.js'),
  status: () => import('./status.js'),
  log: () => import('./log.js'),
  verify: () => import('./verify.js'),
  doctor: () => import('./doctor.js'),
  init: () => import('./init.js'),
  completion: () => import('./completion.js'),
}
