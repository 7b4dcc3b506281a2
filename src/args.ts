import { usageError } from './errors.js'

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

interface OptionSpec {
  names: string[]
  value?: string
  set: Setter
  /** Also handed to home-manager, because it is home-manager's option too. */
  shared?: boolean
  description: string
}

const flag = (key: 'plan' | 'json' | 'quiet' | 'verbose' | 'help' | 'version' | 'strict'): Setter =>
  (options) => { options[key] = true }

export const hmsOptions: OptionSpec[] = [
  { names: ['--flake'], value: 'uri', set: (o, v) => { o.flake = v }, description: 'flake of the home configuration, e.g. .#mitsio@shoshin (passed to home-manager)' },
  { names: ['-p', '--profile'], value: 'name', set: (o, v) => { o.profile = v }, description: 'host profile to use (shoshin, gyakusatsu, kinoite, or any from config)' },
  { names: ['--cache'], value: 'name', set: (o, v) => { o.cache = v }, description: 'cache to push to, overriding config and profile' },
  { names: ['--no-push'], set: (o) => { o.push = false }, description: 'just switch, push nothing' },
  { names: ['--plan'], set: flag('plan'), description: 'print what would run, and why, then exit' },
  { names: ['--json'], set: flag('json'), description: 'print one JSON summary on stdout; everything else goes to stderr' },
  { names: ['-q', '--quiet'], set: flag('quiet'), description: 'print only warnings and errors' },
  { names: ['-v', '--verbose'], set: flag('verbose'), shared: true, description: "home-manager's verbose flag; hms also shows cachix's raw lines and every pushed path" },
  { names: ['--strict'], set: flag('strict'), description: 'a failed or impossible push is an error (exit 3, or 2 before switching)' },
  { names: ['--push-jobs'], value: 'n', set: (o, v, n) => { o.pushJobs = positiveInt(v, n) }, description: 'parallel uploads (cachix --jobs)' },
  { names: ['--compression-method'], value: 'xz|zstd', set: (o, v, n) => { o.compressionMethod = compression(v, n) }, description: 'compression used by cachix' },
  { names: ['-h', '--help'], set: flag('help'), description: 'show help' },
  { names: ['-V', '--version'], set: flag('version'), description: 'show the version' },
]

/** How many values each home-manager / nix option takes, so its values are never mistaken for hms's words. */
export const homeManagerArity: Record<string, number> = {
  '-b': 1, '-B': 1, '-f': 1, '--file': 1, '-A': 1, '-I': 1, '-j': 1, '--max-jobs': 1, '--cores': 1,
  '-c': 1, '--specialisation': 1, '--update-input': 1,
  '--option': 2, '--arg': 2, '--argstr': 2, '--override-input': 2,
  '-n': 0, '--dry-run': 0, '--impure': 0, '--show-trace': 0, '-L': 0, '--print-build-logs': 0,
  '--keep-going': 0, '-k': 0, '--keep-failed': 0, '-K': 0, '--rollback': 0, '--refresh': 0,
  '--offline': 0, '--no-substitute': 0, '--recreate-lock-file': 0, '--no-update-lock-file': 0,
  '--no-write-lock-file': 0, '--no-out-link': 0,
}

const byName = new Map(hmsOptions.flatMap((spec) => spec.names.map((name) => [name, spec] as const)))

export function defaultOptions(): HmsOptions {
  return { push: true, plan: false, json: false, quiet: false, verbose: false, help: false, version: false }
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options = defaultOptions()
  const passthrough: string[] = []
  const positionals: string[] = []
  let command: Subcommand | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      passthrough.push(...argv.slice(i + 1))
      break
    }
    const [name, inline] = splitInline(arg)
    const spec = byName.get(name)
    if (spec) {
      let value = inline
      if (spec.value && value === undefined) {
        value = argv[++i]
        if (value === undefined) throw usageError(`option ${name} needs a value (<${spec.value}>)`, `e.g. hms ${name} ${example(spec)}`)
      } else if (!spec.value && inline !== undefined) {
        throw usageError(`option ${name} takes no value`)
      }
      spec.set(options, value ?? '', name)
      if (spec.shared) passthrough.push(arg)
      continue
    }
    if (arg.startsWith('-') && arg !== '-') {
      rejectTypo(name)
      const arity = inline === undefined ? (homeManagerArity[arg] ?? 0) : 0
      passthrough.push(...argv.slice(i, i + 1 + arity))
      i += arity
      continue
    }
    if (command === undefined && positionals.length === 0) {
      command = toSubcommand(arg)
      continue
    }
    positionals.push(arg)
  }
  command ??= 'switch'
  if (command === 'switch' && positionals.length > 0) {
    throw usageError(`unexpected argument "${positionals[0]}"`, 'home-manager options go after the flags, or after --')
  }
  return { command, options, passthrough, positionals }
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

/** A long option that is neither hms's nor home-manager's, but one edit away from hms's, is a typo, not a pass-through. */
function rejectTypo(name: string): void {
  if (!name.startsWith('--') || name in homeManagerArity) return
  const guess = closest(name, [...byName.keys()].filter((n) => n.startsWith('--')))
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

function compression(value: string, name: string): 'xz' | 'zstd' {
  if (value === 'xz' || value === 'zstd') return value
  throw usageError(`option ${name} must be xz or zstd, got "${value}"`)
}

function example(spec: OptionSpec): string {
  return { uri: '.#mitsio@shoshin', name: 'shoshin', n: '8', 'xz|zstd': 'zstd' }[spec.value ?? ''] ?? ''
}
