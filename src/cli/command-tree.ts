import { Command, Option } from 'commander'
import { usageError } from '../lib/errors.js'

import { compressionMethods, pushModes, subcommands, type Subcommand } from '../plan/options.js'

export { subcommands, type Subcommand }

/** One of hms's options, before it becomes a commander Option of each subcommand that takes it. */
interface OptionDef {
  flags: string
  description: string
  /** Wording for subcommands other than switch, where the switch's would mislead. */
  otherwise?: string
  /** The subcommands that take this option (all when absent). */
  only?: Subcommand[]
  parse?: (value: string, name: string) => unknown
  choices?: readonly string[]
  /** Repeatable: the values are collected in order. */
  collect?: boolean
  /** Shown in a usage error when the value is missing. */
  example?: string
}

const ownFlake: Subcommand[] = ['switch', 'push', 'status', 'verify', 'doctor']
const global: OptionDef[] = [
  {
    flags: '--flake <uri>',
    only: ownFlake,
    example: '.#mitsio@shoshin',
    description:
      'flake of the configuration, e.g. .#mitsio@shoshin; its host picks the profile ' + '(passed to home-manager)',
    otherwise: 'flake attribute whose host picks the profile, e.g. .#mitsio@shoshin',
  },
  {
    flags: '-p, --profile <name>',
    only: ownFlake,
    example: 'shoshin',
    description: 'host profile to use (shoshin, gyakusatsu, kinoite, or any from config)',
  },
  {
    flags: '--cache <name|url>',
    only: [...ownFlake, 'init'],
    example: 'my-cache',
    description: 'the cache: a Cachix name, a name from config caches, or a store URL (file://, s3://, ssh://…)',
  },
  { flags: '--no-push', only: ['switch'], description: 'just switch, push nothing' },
  { flags: '--plan', only: ['switch', 'push'], description: 'print what would run, and why, then exit' },
  {
    flags: '--json',
    only: ['switch', 'push', 'status', 'log', 'verify', 'diff', 'doctor'],
    description: 'one JSON document on stdout at the end; everything else goes to stderr',
  },
  { flags: '-q, --quiet', description: 'print only warnings and errors' },
  {
    flags: '-v, --verbose',
    description: "more detail: cachix's raw lines and every pushed path; also home-manager's own -v",
    otherwise: "more detail: cachix's raw lines and every pushed path",
  },
  {
    flags: '--strict',
    only: ['switch', 'push'],
    description: 'a failed or impossible push is an error (exit 3, or 2 before switching)',
    otherwise: 'a failed push exits 3; one that cannot happen at all (no cachix, no credentials) exits 2',
  },
  {
    flags: '--push-jobs <n>',
    only: ['switch', 'push'],
    parse: positiveInt,
    example: '8',
    description: 'parallel uploads (cachix --jobs)',
  },
  {
    flags: '--compression-method <xz|zstd>',
    only: ['switch', 'push'],
    choices: compressionMethods,
    example: 'zstd',
    description: 'compression used by cachix',
  },
  { flags: '-h, --help', description: 'show help' },
  { flags: '-V, --version', description: 'show the version' },
]

/** Options hms reads and also hands to home-manager, because they are home-manager's too. */
const sharedOptions = new Set(['-v', '--verbose'])

const retries: OptionDef = {
  flags: '--retries <n>',
  parse: wholeNumber,
  example: '2',
  description: 'retries with backoff for network errors before a path is queued (default 2)',
}
const background: OptionDef = {
  flags: '--background',
  description:
    'push in a detached process; the switch itself stays in the foreground, the push outcome lands ' +
    'in the queue and history',
  otherwise: 'push in a detached process and return at once; the outcome lands in the queue and history',
}
const notify: OptionDef = { flags: '--notify', description: 'desktop notification (notify-send) when the push ends' }

/** Options that belong to one subcommand; they come after (and win over) the global ones. */
const commandOptions: Partial<Record<Subcommand, OptionDef[]>> = {
  switch: [
    {
      flags: '--mode <watch-exec|generation>',
      choices: pushModes,
      example: 'generation',
      description:
        'watch-exec pushes what was built (default); generation pushes the new generation after a plain ' + 'switch',
    },
    retries,
    background,
    notify,
    { flags: '--verify', description: 'after pushing, check that the whole generation is in the cache' },
  ],
  push: [
    { flags: '--pending', description: 'push everything waiting in the queue' },
    {
      flags: '--drop',
      description: 'with --pending: forget what waits (for --cache, else every cache) instead of pushing it',
    },
    retries,
    background,
    notify,
  ],
  verify: [
    {
      flags: '--jobs <n>',
      parse: positiveInt,
      example: '16',
      description: 'narinfo requests in flight at once (default 16)',
    },
    {
      flags: '--timeout <seconds>',
      parse: positiveInt,
      example: '15',
      description: 'how long one request may take (default 15)',
    },
  ],
  // The diff is the command's whole output: -q and -v say how much of it, not what a push reports.
  diff: [
    {
      flags: '-q, --quiet',
      description: 'print only the heading: which generations, how many packages changed, the size',
    },
    { flags: '-v, --verbose', description: 'list every package (without it, the first 10 and a count of the rest)' },
  ],
  log: [
    { flags: '-n, --lines <n>', parse: positiveInt, example: '5', description: 'how many runs to show (default 10)' },
  ],
  init: [
    {
      flags: '--flake <path>',
      example: '~/ws',
      description: 'the flake holding homeConfigurations, without #attr (hms adds #user@host)',
    },
    { flags: '--user <name>', example: 'mitsio', description: 'user part of the flake attribute' },
    {
      flags: '--profile <name=host[,host][:cache]>',
      collect: true,
      example: 'shoshin=shoshin',
      description: 'a host profile; repeat for more',
    },
    { flags: '--force', description: 'overwrite an existing config' },
  ],
}

export interface Topic {
  usage: string
  summary: string
  /** Bare words the subcommand takes, as commander arguments. */
  words?: string
  examples: [string, string][]
  footer?: string
}

/** Each subcommand's usage, summary and examples: its help speaks of that subcommand. */
export const topics: Record<Subcommand, Topic> = {
  switch: {
    usage: 'hms [switch] [options] [home-manager options…]',
    summary: 'home-manager switch, then push exactly what was built to your binary cache',
    examples: [
      ['hms', "switch this host's profile and push"],
      ['hms --flake .#mitsio@shoshin', 'pick the configuration (and so the profile)'],
      ['hms -p gyakusatsu --cache my-cache', 'force a profile and a cache'],
      ['hms -b backup --show-trace', "home-manager's own flags pass through"],
      ['hms --plan', 'show what would run, and why'],
      ['hms --json > summary.json', 'machine-readable summary on stdout'],
      ['hms --no-push', 'just switch'],
    ],
    footer: `Every other option (-b, -B, -c, -j, -n, -f, -A, -I, -L, --impure, --show-trace,
--option k v, --arg n v, …) goes to home-manager unchanged and in order; so does
everything after --.

Commands: switch (default), push, status, log, verify, diff, doctor, init, completion, help

Exit codes: 0 ok · home-manager's code when the switch failed · 2 usage or config error ·
3 push failed under --strict · 4 --verify failed under --strict · 127 home-manager missing · 130 interrupted`,
  },
  push: {
    usage: 'hms push [options] [paths…]',
    words: '[paths...]',
    summary: 'push store paths (default: the current generation) or the pending queue',
    examples: [
      ['hms push', 'push the current generation'],
      ['hms push --pending', 'push what earlier runs could not'],
    ],
  },
  status: {
    usage: 'hms status [--json]',
    summary: 'profile, cache, generation, pending pushes and recent runs',
    examples: [['hms status', '']],
  },
  log: { usage: 'hms log [-n N]', summary: 'recent runs, one line each', examples: [['hms log -n 5', '']] },
  verify: {
    usage: 'hms verify [--cache C] [--jobs N] [--timeout S] [--json] [paths…]',
    words: '[paths...]',
    summary: 'check that every path of a closure (default: the current generation) is in the cache',
    examples: [
      ['hms verify', 'is the current generation whole in the cache?'],
      ['hms verify --cache file:///mnt/nas/nix-cache', 'check a store URL instead of the configured cache'],
      ['hms verify ./result --json', 'any closure; the full missing list as JSON'],
      ['hms switch --verify', 'switch, push, then verify; the result lands in the summary'],
    ],
    footer: `Looks for <hash>.narinfo: in the directory for file://, with HTTP HEAD for http(s):// and
Cachix (https://NAME.cachix.org), with nix path-info --store for s3://, ssh://, ssh-ng://.

Exit codes: 0 all present · 1 something is missing · 2 the cache could not be asked (the
reason is printed; nothing is counted as missing) or a usage error`,
  },
  diff: {
    usage: 'hms diff [A] [B] [--json]',
    words: '[generations...]',
    summary: 'packages added, removed and changed between two generations, and the closure size change',
    examples: [
      ['hms diff', 'the previous generation against the current one'],
      ['hms diff 41', 'generation 41 against the current one'],
      ['hms diff 41 57 --json', 'any two; { before, after, diff: { added, removed, changed, … } }'],
      ['hms diff ./result', 'a generation built but not switched to, against the current one'],
    ],
    footer: `A and B: generation numbers (the N of the profile's generation-N links, as the generations
command lists them), or paths to generations. A package is a closure entry with a name and a
version (hello-2.12.1), grouped by name as nix store diff-closures groups them; computed from the
local store only. The diff is the output: on stdout, coloured only when stdout is a terminal.

Exit codes: 0 compared · 1 the store could not be asked · 2 an unknown generation, a path that is
not a generation, or a usage error`,
  },
  doctor: {
    usage: 'hms doctor [--flake F] [-p P] [--cache C] [--json] [-q]',
    summary: 'check everything hms needs, with the fix for each problem',
    examples: [
      ['hms doctor', 'one line per check: ✔ fine, ✖ broken (with the fix), ! worth knowing'],
      ['hms doctor -p gyakusatsu', "check another profile's host, flake attribute and cache"],
      ['hms doctor --cache file:///mnt/nas/nix-cache', 'is this cache reachable?'],
      ['hms doctor --json', 'the same as JSON: { ok, checks: [{ id, status, message, fix }] }'],
    ],
    footer: 'Exit codes: 0 nothing failed (warnings and offline skips allowed) · 1 at least one check failed',
  },
  init: {
    usage: 'hms init [--cache C] [--flake F] [--user U] [--profile name=host[,host][:cache]]… [--force]',
    summary: 'write ~/.config/hms/config.json (from flags, or by asking on a terminal)',
    examples: [
      ['hms init', 'on a terminal: asks, proposing this host, $USER and ./flake.nix'],
      ['hms init --cache my-cache --flake ~/ws', 'one profile named after this host'],
      [
        'hms init --cache my-cache --profile shoshin=shoshin:skylake --profile kinoite',
        'two profiles, one with its own cache',
      ],
      ['hms init --cache file:///mnt/nas/nix-cache --force', 'replace an existing config'],
    ],
    footer: 'Writes $HMS_CONFIG, else $XDG_CONFIG_HOME/hms/config.json. Refuses to overwrite without --force (exit 1).',
  },
  completion: {
    // The shell is checked by the command itself, which names the shells it knows.
    usage: 'hms completion bash|zsh|fish',
    words: '[words...]',
    summary: 'print a shell completion script',
    examples: [
      [
        'hms completion bash > ~/.local/share/bash-completion/completions/hms',
        'bash (or: eval "$(hms completion bash)" in ~/.bashrc)',
      ],
      ['hms completion zsh > "${fpath[1]}/_hms"', 'zsh (or: source <(hms completion zsh) after compinit)'],
      ['hms completion fish > ~/.config/fish/completions/hms.fish', 'fish'],
    ],
    footer:
      'Profile names, caches and --flake .#user@host attributes come from the config when the script is\n' +
      'printed: run the command again after changing profiles.',
  },
  help: {
    usage: 'hms help [command]',
    words: '[words...]',
    summary: 'show help for hms or one command',
    examples: [['hms help push', '']],
  },
}

/** Examples of values, for the hint of a usage error: the long name maps to one. */
const examples = new Map<string, string>()

function toOption(def: OptionDef, command: Subcommand): Option {
  const description = command === 'switch' || !def.otherwise ? def.description : def.otherwise
  const option = new Option(def.flags, description)
  if (!option.required) return option
  const name = option.long ?? option.short!
  const value = def.flags.slice(def.flags.indexOf('<'))
  examples.set(name, def.example ?? '')
  if (def.choices) option.choices(def.choices)
  // After choices(): keeps their list for help and completion, with hms's own wording of the error.
  return option.argParser((text: string, previous: unknown) => {
    if (text === '') throw usageError(`option ${name} needs a value (${value}), not an empty one`, exampleOf(name))
    if (def.choices && !def.choices.includes(text)) {
      throw usageError(`option ${name} must be ${def.choices.join(' or ')}, got "${text}"`)
    }
    if (def.collect) return [...((previous as string[] | undefined) ?? []), text]
    return def.parse ? def.parse(text, name) : text
  })
}

export const exampleOf = (name: string): string => `e.g. hms ${name} ${examples.get(name) ?? ''}`.trimEnd()

/** The names an option is typed as, and whether it takes a value, read from its flags. */
const namesIn = (flags: string): string[] => flags.split(/[ ,]+/).filter((word) => word.startsWith('-'))

/** hms's options of one subcommand: the global ones it takes, then its own (which win). */
function definitionsOf(name: Subcommand): OptionDef[] {
  const own = commandOptions[name] ?? []
  const ownNames = new Set(own.flatMap((def) => namesIn(def.flags)))
  const takes = (def: OptionDef) => !def.only || def.only.includes(name)
  return [...global.filter((def) => takes(def) && !namesIn(def.flags).some((n) => ownNames.has(n))), ...own]
}

/** One subcommand's option names, each with whether it takes a value and is also home-manager's. */
export type OptionTable = Map<string, { value: boolean; shared: boolean }>

const tables = new Map<Subcommand, OptionTable>()

/** The same registry as the tree, without building commander's objects: the pre-pass reads it for every run. */
export function optionTable(name: Subcommand): OptionTable {
  let table = tables.get(name)
  if (!table) {
    table = new Map(
      definitionsOf(name).flatMap((def) =>
        namesIn(def.flags).map((n) => [n, { value: def.flags.includes('<'), shared: sharedOptions.has(n) }] as const),
      ),
    )
    tables.set(name, table)
  }
  return table
}

/**
 * The command tree: every subcommand, with its options and bare words for those in `full` (all by
 * default; a parse needs only its own). Built anew each time: commander keeps parsed values on it.
 */
export function commandTree(full: readonly Subcommand[] = subcommands): Command {
  // Errors become hms's one-line usage errors (args.ts), never commander's own text on stderr.
  const program = new Command('hms')
    .helpOption(false)
    .helpCommand(false)
    .configureOutput({ outputError: () => {} })
  for (const name of subcommands) {
    const command = program.command(name).summary(topics[name].summary).helpOption(false).exitOverride()
    command.action(() => {})
    if (!full.includes(name)) continue
    const words = topics[name].words
    if (words) command.argument(words)
    for (const def of definitionsOf(name)) command.addOption(toOption(def, name))
  }
  return program.exitOverride()
}

/** One subcommand of the tree. */
export function commandOf(tree: Command, name: Subcommand): Command {
  return tree.commands.find((command) => command.name() === name)!
}

/** An option's names as typed: `-p`, `--profile`. */
export const namesOf = (option: Option): string[] => [option.short, option.long].filter((n): n is string => !!n)

function positiveInt(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw usageError(`option ${name} needs a positive whole number, got "${value}"`)
  }
  return Number(value)
}

function wholeNumber(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw usageError(`option ${name} needs a whole number, 0 or more, got "${value}"`)
  return Number(value)
}
