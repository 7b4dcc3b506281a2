// What a parsed command line is: the subcommand, hms's own options, and home-manager's words.

export const subcommands = [
  'switch',
  'push',
  'status',
  'log',
  'verify',
  'diff',
  'doctor',
  'init',
  'completion',
  'help',
] as const
export type Subcommand = (typeof subcommands)[number]

/** `--compression-method` and `push.compressionMethod` (schema.ts): kept free of zod, which the CLI loads late. */
export const compressionMethods = ['xz', 'zstd'] as const
export type CompressionMethod = (typeof compressionMethods)[number]
/** `--mode` and `push.mode`. */
export const pushModes = ['watch-exec', 'generation'] as const
export type PushMode = (typeof pushModes)[number]

/** hms's own options, as the subcommands read them. */
export interface HmsOptions {
  flake?: string
  profile?: string
  cache?: string
  push: boolean
  plan: boolean
  json: boolean
  quiet: boolean
  verbose: boolean
  strict?: boolean
  pushJobs?: number
  compressionMethod?: CompressionMethod
  help: boolean
  version: boolean
  // Options of some subcommands only (see command-tree.ts).
  mode?: PushMode
  retries?: number
  background: boolean
  notify: boolean
  verify: boolean
  pending: boolean
  drop: boolean
  lines?: number
  /** hms verify: requests in flight, and seconds each may take. */
  verifyJobs?: number
  timeout?: number
  force: boolean
  user?: string
  /** `hms init --profile name=host[,host][:cache]`, repeatable. */
  profileSpecs: string[]
}

export interface ParsedArgs {
  command: Subcommand
  options: HmsOptions
  /** Everything hms does not own, in order, for home-manager. */
  passthrough: string[]
  /** Bare words after the subcommand (paths for push, a shell for completion…). */
  positionals: string[]
}

export function defaultOptions(): HmsOptions {
  return {
    push: true,
    plan: false,
    json: false,
    quiet: false,
    verbose: false,
    help: false,
    version: false,
    background: false,
    notify: false,
    verify: false,
    pending: false,
    drop: false,
    force: false,
    profileSpecs: [],
  }
}
