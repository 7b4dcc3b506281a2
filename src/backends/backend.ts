import type { Outcome } from '../lib/process.js'
import type { Plan } from '../plan/plan.js'
import type { Target } from '../plan/target.js'
import type { Output } from '../ui/output.js'
import type { Limits } from './store/presence.js'
import type { Env } from '../lib/env.js'

/**
 * A binary cache hms pushes to: Cachix (through the cachix CLI) or any Nix store URL (through
 * `nix copy`). The kind is decided once, by backendFor (for-target.ts); the rest of hms asks the
 * backend and never the kind.
 */
export interface CacheBackend {
  /** The cache as messages and `hms verify` name it: a URL without credentials. */
  readonly url: string
  /** Whether pushes go through the cachix client, which then needs installing and credentials. */
  readonly needsCachix: boolean
  /**
   * Why nothing can be pushed from here at all (cachix missing, too old, no credentials); found before the switch.
   * `timeoutMs` bounds what it runs (`cachix --version`).
   */
  blocker(env: Env, timeoutMs?: number): Promise<PushBlocker | undefined>
  /**
   * home-manager run so that what it builds reaches the cache; the tally says what did. `switched`
   * is called once home-manager has exited, before a push that follows it: what may run beside that
   * push (the package diff) starts then.
   */
  watch(plan: Plan, ctx: PushContext, switched?: () => void): Promise<Watched>
  /** The command the switch really runs under this backend (what `--plan --verbose` shows). */
  runs(plan: Plan): string[]
  /** A watched run's tally tells the whole story: the watcher was not cut short before its report. */
  complete(ran: Ran): boolean
  /** The command a push of `paths` runs, as `hms push --plan` shows it. */
  pushCommand(paths: string[], settings: { jobs?: number; compressionMethod?: 'xz' | 'zstd' }): string[]
  /** What runs before that push, where one does (signing in the local store for an ssh store). */
  signCommand(paths: string[]): string[] | undefined
  /** One attempt at pushing the closures of the request's paths. */
  push(request: PushRequest, ctx: PushContext): Promise<PushAttempt>
  /** Which of `paths` the cache holds, in one round trip per batch; throws HmsError when it cannot be asked. */
  present(paths: string[], env: Env, limits?: Limits): Promise<Set<string>>
  /** Is the cache there and a Nix store, asked the way a push asks it, with its credentials (`hms doctor`)? */
  probe(env: Env, limits: Limits): Promise<Probe>
}

/** A cache's answer to `probe`. */
export interface Probe {
  /**
   * `ok`: it answers as a Nix store. `fail`: something for the user to fix, said by `fix`. `later`:
   * nothing to fix here (slow, a server error, not a binary cache until the first push). `offline`:
   * this machine cannot resolve or reach the host, which no cache setting can change.
   */
  status: 'ok' | 'fail' | 'later' | 'offline'
  message: string
  fix?: string
}

/** What a push or a watched switch runs in. */
export interface PushContext {
  env: Env
  cwd: string
  out: Output
}

export interface PushRequest {
  cache: string
  /** Roots: cachix pushes each one's closure. */
  paths: string[]
  jobs?: number
  compressionMethod?: string
  retries: number
  /** Where to: absent means the Cachix cache named `cache`. */
  target?: Target
  exclude?: readonly string[]
}

/** One attempt's result, shaped alike for both kinds so retries, queue and history treat them alike. */
export interface PushAttempt {
  ok: boolean
  /** The last thing the pusher said that hms did not understand, for the message when the push failed. */
  reason?: string
  tally: PushTally
  alreadyPresent: number
  outcome: Outcome
}

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
  /** Each path's references, for the closures hms's own push queried: enough to walk any of them again. */
  references?: Map<string, readonly string[]>
}

export function emptyTally(): PushTally {
  return {
    announced: new Map(),
    failed: new Set(),
    confirmed: new Set(),
    excluded: new Set(),
    untrusted: false,
    alreadyPresent: 0,
  }
}

/** A switch run (run.ts), with the tally of a watcher. */
export interface Ran {
  outcome: Outcome
  tally?: PushTally
  durationMs: number
  /** home-manager's own exit status when it ran to its end; undefined when it was killed or stopped. */
  finished?: number
  /** The cache refused the push for good (a missing signature, 401/403): no retry can change that. */
  refused?: string
}

/** home-manager run directly: its outcome is its own; killed or interrupted means it never finished. */
export function finishedStatus(outcome: Outcome): number | undefined {
  return outcome.signal || (outcome.interrupted && outcome.exitCode !== 0) ? undefined : outcome.exitCode
}

/** Why a push cannot happen, and what the user should do about it. */
export interface PushBlocker {
  reason: 'cachix-missing' | 'cachix-too-old' | 'cachix-unreadable' | 'no-credentials'
  message: string
  fix: string
}

/** A watched switch: the tally is always there. */
export type Watched = Ran & { tally: PushTally }
