import { usageError } from './errors.js'
import { shellQuote } from './format.js'

export const subcommands = ['switch', 'push', 'status', 'log', 'verify', 'doctor', 'init', 'completion', 'help'] as const
export type Subcommand = (typeof subcommands)[number]

/** hms's own options: long names, plus the few short ones home-manager does not use. */
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
  compressionMethod?: 'xz' | 'zstd'
  help: boolean
  version: boolean
  // Options of some subcommands only (see commandOptions).
  mode?: 'watch-exec' | 'generation'
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

type Setter = (options: HmsOptions, value: string, name: string) => void

export interface OptionSpec {
  names: string[]
  value?: string
  set: Setter
  /** Also handed to home-manager, because it is home-manager's option too. */
  shared?: boolean
  /** The subcommands that take this option; all when absent. */
  only?: Subcommand[]
  description: string
  /** Wording for subcommands other than switch, where the switch's would mislead. */
  otherwise?: string
}

/** What an option means for `command`: each subcommand's help speaks of that subcommand. */
export function describe(spec: OptionSpec, command: Subcommand): string {
  return command === 'switch' || !spec.otherwise ? spec.description : spec.otherwise
}

const flag = (key: 'plan' | 'json' | 'quiet' | 'verbose' | 'help' | 'version' | 'strict'): Setter =>
  (options) => { options[key] = true }

export const hmsOptions: OptionSpec[] = [
  { names: ['--flake'], value: 'uri', set: (o, v) => { o.flake = v }, only: ['switch', 'push', 'status', 'verify', 'doctor'],  description: 'flake of the configuration, e.g. .#mitsio@shoshin; its host picks the profile (passed to home-manager)', otherwise: 'flake attribute whose host picks the profile, e.g. .#mitsio@shoshin' },
  { names: ['-p', '--profile'], value: 'name', set: (o, v) => { o.profile = v }, only: ['switch', 'push', 'status', 'verify', 'doctor'],  description: 'host profile to use (shoshin, gyakusatsu, kinoite, or any from config)' },
  { names: ['--cache'], value: 'name|url', set: (o, v) => { o.cache = v }, only: ['switch', 'push', 'status', 'verify', 'doctor', 'init'],  description: 'the cache: a Cachix name, a name from config caches, or a store URL (file://, s3://, ssh://…)' },
  { names: ['--no-push'], set: (o) => { o.push = false }, only: ['switch'],  description: 'just switch, push nothing' },
  { names: ['--plan'], set: flag('plan'), only: ['switch', 'push'],  description: 'print what would run, and why, then exit' },
  { names: ['--json'], set: flag('json'), only: ['switch', 'push', 'status', 'log', 'verify', 'doctor'],  description: 'one JSON document on stdout at the end; everything else goes to stderr' },
  { names: ['-q', '--quiet'], set: flag('quiet'), description: 'print only warnings and errors' },
  { names: ['-v', '--verbose'], set: flag('verbose'), shared: true, description: "more detail: cachix's raw lines and every pushed path; also home-manager's own -v", otherwise: "more detail: cachix's raw lines and every pushed path" },
  { names: ['--strict'], set: flag('strict'), only: ['switch', 'push'],  description: 'a failed or impossible push is an error (exit 3, or 2 before switching)', otherwise: 'a failed push exits 3; one that cannot happen at all (no cachix, no credentials) exits 2' },
  { names: ['--push-jobs'], value: 'n', set: (o, v, n) => { o.pushJobs = positiveInt(v, n) }, only: ['switch', 'push'],  description: 'parallel uploads (cachix --jobs)' },
  { names: ['--compression-method'], value: 'xz|zstd', set: (o, v, n) => { o.compressionMethod = compression(v, n) }, only: ['switch', 'push'],  description: 'compression used by cachix' },
  { names: ['-h', '--help'], set: flag('help'), description: 'show help' },
  { names: ['-V', '--version'], set: flag('version'), description: 'show the version' },
]

/**
 * How many values each home-manager / nix option takes, so its values are never mistaken for hms's
 * words: the union of the option `case` arms of home-manager 24.05, 25.11 and master
 * (test/unit/home-manager-options.test.ts reads the real scripts and fails on a missing entry).
 * An option of a later version that is not here still works after `--`.
 */
export const homeManagerArity: Record<string, number> = {
  '-b': 1, '-B': 1, '-f': 1, '--file': 1, '-A': 1, '-I': 1, '-j': 1, '--max-jobs': 1, '--cores': 1,
  '-c': 1, '--specialisation': 1, '--update-input': 1, '--builders': 1, '--log-format': 1,
  '--experimental-features': 1, '--extra-experimental-features': 1,
  '--option': 2, '--arg': 2, '--argstr': 2, '--override-input': 2,
  '-n': 0, '--dry-run': 0, '--impure': 0, '--show-trace': 0, '-L': 0, '--print-build-logs': 0,
  '--keep-going': 0, '--keep-failed': 0, '--debug': 0, '--substitute': 0, '--no-substitute': 0,
  '--rollback': 0, '--refresh': 0, '--recreate-lock-file': 0, '--no-update-lock-file': 0,
  '--no-write-lock-file': 0, '--no-registries': 0, '--commit-lock-file': 0, '--no-out-link': 0, '--recursive': 0,
}

const retries: OptionSpec = { names: ['--retries'], value: 'n', set: (o, v, n) => { o.retries = wholeNumber(v, n) }, description: 'retries with backoff for network errors before a path is queued (default 2)' }
const background: OptionSpec = { names: ['--background'], set: (o) => { o.background = true }, description: 'push in a detached process; the switch itself stays in the foreground, the push outcome lands in the queue and history', otherwise: 'push in a detached process and return at once; the outcome lands in the queue and history' }
const notify: OptionSpec = { names: ['--notify'], set: (o) => { o.notify = true }, description: 'desktop notification (notify-send) when the push ends' }

/**
 * Options that belong to one subcommand. They win over the global table for that subcommand;
 * subcommands other than switch reject unknown options instead of passing them on.
 */
export const commandOptions: Partial<Record<Subcommand, OptionSpec[]>> = {
  switch: [
    { names: ['--mode'], value: 'watch-exec|generation', set: (o, v, n) => { o.mode = mode(v, n) }, description: 'watch-exec pushes what was built (default); generation pushes the new generation after a plain switch' },
    retries, background, notify,
    { names: ['--verify'], set: (o) => { o.verify = true }, description: 'after pushing, check that the whole generation is in the cache' },
  ],
  push: [
    { names: ['--pending'], set: (o) => { o.pending = true }, description: 'push everything waiting in the queue' },
    { names: ['--drop'], set: (o) => { o.drop = true }, description: 'with --pending: forget what waits (for --cache, else every cache) instead of pushing it' },
    retries, background, notify,
  ],
  verify: [
    { names: ['--jobs'], value: 'n', set: (o, v, n) => { o.verifyJobs = positiveInt(v, n) }, description: 'narinfo requests in flight at once (default 16)' },
    { names: ['--timeout'], value: 'seconds', set: (o, v, n) => { o.timeout = positiveInt(v, n) }, description: 'how long one request may take (default 15)' },
  ],
  log: [
    { names: ['-n', '--lines'], value: 'n', set: (o, v, n) => { o.lines = positiveInt(v, n) }, description: 'how many runs to show (default 10)' },
  ],
  init: [
    { names: ['--flake'], value: 'path', set: (o, v) => { o.flake = v }, description: 'the flake holding homeConfigurations, without #attr (hms adds #user@host)' },
    { names: ['--user'], value: 'name', set: (o, v) => { o.user = v }, description: 'user part of the flake attribute' },
    { names: ['--profile'], value: 'name=host[,host][:cache]', set: (o, v) => { o.profileSpecs.push(v) }, description: 'a host profile; repeat for more' },
    { names: ['--force'], set: (o) => { o.force = true }, description: 'overwrite an existing config' },
  ],
}

const indexOf = (specs: OptionSpec[]) => new Map(specs.flatMap((spec) => spec.names.map((name) => [name, spec] as const)))
const globalFor = (c: Subcommand) => hmsOptions.filter((spec) => !spec.only || spec.only.includes(c))
const byCommand = new Map(subcommands.map((c) => [c, indexOf([...globalFor(c), ...(commandOptions[c] ?? [])])]))
/**
 * Before the subcommand word, options are read as switch reads them (switch is the default):
 * `hms -n -b backup` is home-manager's dry run, never `hms log`'s `-n <count>`.
 */
const beforeCommand = byCommand.get('switch')!
const anyLongOption = new Map([...subcommands.flatMap((c) => [...byCommand.get(c)!])])

export function defaultOptions(): HmsOptions {
  return { push: true, plan: false, json: false, quiet: false, verbose: false, help: false, version: false, background: false, notify: false, verify: false, pending: false, drop: false, force: false, profileSpecs: [] }
}

export function optionsOf(command: Subcommand): OptionSpec[] {
  return [...new Set(byCommand.get(command)!.values())]
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const at = findSubcommand(argv)
  const command = at === undefined ? 'switch' : toSubcommand(argv[at]!)
  const table = byCommand.get(command)!
  const options = defaultOptions()
  const passthrough: string[] = []
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      // `--` ends hms's options: for switch the rest is home-manager's, elsewhere it is the command's words.
      ;(command === 'switch' ? passthrough : positionals).push(...argv.slice(i + 1))
      break
    }
    const [name, inline] = splitShort(arg, table) ?? splitInline(arg)
    if (i === at) continue
    const spec = table.get(name)
    if (spec) {
      let value = inline
      if (spec.value && value === undefined) {
        value = argv[++i]
        if (value === undefined) throw usageError(`option ${name} needs a value (<${spec.value}>)`, `e.g. hms ${name} ${example(spec)}`)
      } else if (!spec.value && inline !== undefined) {
        throw usageError(`option ${name} takes no value`)
      }
      if (spec.value && value === '') throw usageError(`option ${name} needs a value (<${spec.value}>), not an empty one`, `e.g. hms ${name} ${example(spec)}`)
      spec.set(options, value ?? '', name)
      if (spec.shared) passthrough.push(arg)
      continue
    }
    if (arg.startsWith('-') && arg !== '-') {
      rejectTypo(name, table, command)
      const arity = inline === undefined ? (homeManagerArity[arg] ?? 0) : 0
      passthrough.push(...argv.slice(i, i + 1 + arity))
      i += arity
      continue
    }
    positionals.push(arg)
  }
  if (command === 'switch' && positionals.length > 0) {
    throw usageError(`unexpected argument "${positionals[0]}"`, 'home-manager options go after the flags, or after --')
  }
  if (noArguments.includes(command) && positionals.length > 0) {
    throw usageError(`hms ${command} takes no arguments, got "${positionals[0]}"`, `see hms ${command} --help`)
  }
  return { command, options, passthrough, positionals }
}

/** Index of the first bare word that is not an option's value: the subcommand, if any. */
function findSubcommand(argv: readonly string[]): number | undefined {
  let foreign: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    const [name, inline] = splitInline(arg)
    const spec = beforeCommand.get(name)
    const other = spec || name in homeManagerArity ? undefined : otherCommands(name)
    if (spec) {
      if (spec.value && inline === undefined) i++
    } else if (other) {
      // `hms --pending push` is fine; `hms --pending` alone is not a switch (see below).
      foreign ??= name
      if (other.spec.value && inline === undefined) i++
    } else if (arg.startsWith('-') && arg !== '-') {
      if (name.startsWith('--') && !(name in homeManagerArity) && !anyLongOption.has(name)) rejectTypo(name, anyLongOption, 'switch')
      if (inline === undefined) i += homeManagerArity[arg] ?? 0
    } else {
      return i
    }
  }
  if (foreign) {
    const owner = otherCommands(foreign)!.command
    throw usageError(`${foreign} is an option of hms ${owner}, not of a switch`, `did you mean: hms ${owner} ${argv.map(shellQuote).join(' ')}`)
  }
  return undefined
}

const noArguments: Subcommand[] = ['status', 'log', 'doctor', 'init']

/** `-pshoshin`, `-n5`: one of hms's own short options with its value attached. */
function splitShort(arg: string, table: Map<string, OptionSpec>): [string, string] | undefined {
  if (!/^-[A-Za-z]./.test(arg)) return undefined
  const spec = table.get(arg.slice(0, 2))
  return spec?.value ? [arg.slice(0, 2), arg.slice(2)] : undefined
}

function splitInline(arg: string): [string, string | undefined] {
  if (!arg.startsWith('--')) return [arg, undefined]
  const eq = arg.indexOf('=')
  return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)]
}

function toSubcommand(word: string): Subcommand {
  if ((subcommands as readonly string[]).includes(word)) return word as Subcommand
  const guess = closest(word, subcommands)
  throw usageError(`unknown command "${word}"`, guess ? `did you mean "hms ${guess}"?` : `commands: ${subcommands.join(', ')}`)
}

/**
 * `hms --pending` (forgot `push`): an option of another subcommand, not home-manager's, would
 * otherwise start a switch that home-manager then fails on. Which command it belongs to.
 */
function otherCommands(name: string): { command: Subcommand; spec: OptionSpec } | undefined {
  for (const command of subcommands) {
    const spec = command === 'switch' ? undefined : byCommand.get(command)!.get(name)
    if (spec) return { command, spec }
  }
  return undefined
}

/**
 * Only `switch` hands unknown options to home-manager. There, a long option that is neither hms's
 * nor home-manager's but close to one of hms's is a typo, not a pass-through.
 */
function rejectTypo(name: string, table: Map<string, OptionSpec>, command: Subcommand): void {
  const guess = closest(name, [...table.keys()].filter((n) => n.startsWith('--')))
  if (command !== 'switch') {
    throw usageError(`unknown option ${name} for hms ${command}`, guess ? `did you mean ${guess}?` : `see hms ${command} --help`)
  }
  if (!name.startsWith('--') || name in homeManagerArity) return
  if (guess) throw usageError(`unknown option ${name}`, `did you mean ${guess}?`)
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1
  for (const candidate of candidates) {
    const d = editDistance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}

function positiveInt(value: string, name: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1) throw usageError(`option ${name} needs a positive whole number, got "${value}"`)
  return n
}

function wholeNumber(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw usageError(`option ${name} needs a whole number, got "${value}"`)
  return Number(value)
}

function mode(value: string, name: string): 'watch-exec' | 'generation' {
  if (value === 'watch-exec' || value === 'generation') return value
  throw usageError(`option ${name} must be watch-exec or generation, got "${value}"`)
}

function compression(value: string, name: string): 'xz' | 'zstd' {
  if (value === 'xz' || value === 'zstd') return value
  throw usageError(`option ${name} must be xz or zstd, got "${value}"`)
}

function example(spec: OptionSpec): string {
  return { uri: '.#mitsio@shoshin', name: 'shoshin', 'name|url': 'my-cache', n: '8', seconds: '15', 'xz|zstd': 'zstd', 'watch-exec|generation': 'generation' }[spec.value ?? ''] ?? ''
}
