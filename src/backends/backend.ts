import type { Outcome } from '../lib/process.js'

export interface PushTally {
  announced: Map<string, number | undefined>
  failed: Set<string>
  /** Confirmed in the cache by the pusher itself (`nix copy` exited 0): pushed, whatever interrupts the run later. */
  confirmed: Set<string>
  /** Left out by `push.exclude` (store URLs only): never pushed, always reported. */
  excluded: Set<string>
  refusal?: string
  untrusted: boolean
  /** Paths the cache already had (cachix's "N are already present", or hms's own lookup). */
  alreadyPresent: number
  /** The announced sizes are exact NAR sizes (hms's own push), not cachix's rounded ones. */
  exactSizes?: boolean
}

export function emptyTally(): PushTally {
  return { announced: new Map(), failed: new Set(), confirmed: new Set(), excluded: new Set(), untrusted: false, alreadyPresent: 0 }
}

/** Folds one report event into the tally; returns true when the event was understood. */
export interface Ran {
  outcome: Outcome
  tally?: PushTally
  durationMs: number
  /** home-manager's own exit status when it ran to its end; undefined when it was killed or stopped. */
  finished?: number
}

/** home-manager run directly: its outcome is its own; killed or interrupted means it never finished. */
export function finishedStatus(outcome: Outcome): number | undefined {
  return outcome.signal || (outcome.interrupted && outcome.exitCode !== 0) ? undefined : outcome.exitCode
}
