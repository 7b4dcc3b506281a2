import type { Subcommand } from '../plan/options.js'
import type { Command } from './command.js'

/** Loaded on demand, so `hms --version` never pays for the rest. */
export const commands: Record<Exclude<Subcommand, 'help'>, () => Promise<{ default: Command }>> = {
  switch: () => import('./switch.js'),
  push: () => import('./push.js'),
  status: () => import('./status.js'),
  log: () => import('./log.js'),
  verify: () => import('./verify.js'),
  diff: () => import('./diff.js'),
  doctor: () => import('./doctor.js'),
  init: () => import('./init.js'),
  completion: () => import('./completion.js'),
}
