import { CommanderError } from 'commander'
import {
  commandOf,
  commandTree,
  exampleOf,
  optionTable,
  subcommands,
  type OptionTable as Table,
  type Subcommand,
} from './command-tree.js'
import { usageError } from '../lib/errors.js'
import { shellQuote } from '../lib/format.js'

import { defaultOptions, type HmsOptions, type ParsedArgs } from '../plan/options.js'
import { closest } from '../lib/closest.js'
import { isOneOf } from '../lib/one-of.js'

export { subcommands, type Subcommand } from '../plan/options.js'
export type { HmsOptions, ParsedArgs }

/**
 * How many values each home-manager / nix option takes, so its values are never mistaken for hms's
 * words: the union of the option `case` arms of home-manager 24.05, 25.11 and master
 * (test/unit/home-manager-options.test.ts reads the real scripts and fails on a missing entry).
 * An option of a later version that is not here still works after `--`.
 */
export const homeManagerArity: Record<string, number> = {
  '-b': 1,
  '-B': 1,
  '-f': 1,
  '--file': 1,
  '-A': 1,
  '-I': 1,
  '-j': 1,
  '--max-jobs': 1,
  '--cores': 1,
  '-c': 1,
  '--specialisation': 1,
  '--update-input': 1,
  '--builders': 1,
  '--log-format': 1,
  '--experimental-features': 1,
  '--extra-experimental-features': 1,
  '--option': 2,
  '--arg': 2,
  '--argstr': 2,
  '--override-input': 2,
  '-n': 0,
  '--dry-run': 0,
  '--impure': 0,
  '--show-trace': 0,
  '-L': 0,
  '--print-build-logs': 0,
  '--keep-going': 0,
  '--keep-failed': 0,
  '--debug': 0,
  '--substitute': 0,
  '--no-substitute': 0,
  '--rollback': 0,
  '--refresh': 0,
  '--recreate-lock-file': 0,
  '--no-update-lock-file': 0,
  '--no-write-lock-file': 0,
  '--no-registries': 0,
  '--commit-lock-file': 0,
  '--no-out-link': 0,
  '--recursive': 0,
}

/**
 * commander parses hms's words; home-manager's options, which it cannot know, are taken out first.
 * The pre-pass moves them with their values (homeManagerArity) and everything after `--` to the
 * pass-through, copies -v to both, and hands commander the subcommand first, then hms's own words.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const at = findSubcommand(argv)
  const word = at === undefined ? 'switch' : argv[at]!
  const command = isOneOf(subcommands, word) ? word : 'switch'
  const { own, passthrough, words } = prePass(argv, at, command, optionTable(command))
  const tree = commandTree([command])
  try {
    tree.parse([word, ...own], { from: 'user' })
  } catch (error) {
    throw error instanceof CommanderError ? translate(error, command, words) : error
  }
  const parsed = commandOf(tree, command)
  return { command, options: optionsOf(command, parsed.opts()), passthrough, positionals: parsed.args }
}

function prePass(argv: readonly string[], at: number | undefined, command: Subcommand, table: Table) {
  const own: string[] = []
  const passthrough: string[] = []
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (i === at) continue
    if (arg === '--') {
      // `--` ends hms's options: for switch the rest is home-manager's, elsewhere the command's words.
      if (command === 'switch') passthrough.push(...argv.slice(i + 1))
      else {
        own.push(...argv.slice(i))
        words.push(...argv.slice(i + 1))
      }
      break
    }
    const [name, inline] = splitInline(arg)
    const spec = table.get(name) ?? shortWithValue(arg, table)
    if (spec) {
      if (!spec.value && inline !== undefined) throw usageError(`option ${name} takes no value`)
      const value = spec.value && inline === undefined && table.has(arg) && i + 1 < argv.length ? [argv[++i]!] : []
      own.push(arg, ...value)
      if (spec.shared) passthrough.push(arg)
    } else if (arg.startsWith('-') && arg !== '-') {
      // Outside switch an unknown option is an error; in switch, one close to hms's own is a typo.
      if (command !== 'switch' || isTypo(name, table)) {
        own.push(arg)
        continue
      }
      const arity = inline === undefined ? (homeManagerArity[arg] ?? 0) : 0
      if (i + arity >= argv.length) throw missingValue(arg, arity)
      passthrough.push(...argv.slice(i, i + 1 + arity))
      i += arity
    } else {
      own.push(arg)
      words.push(arg)
    }
  }
  return { own, passthrough, words }
}

/**
 * `hms -b` at the end: home-manager would start, only to fail on "missing argument"; a `--plan`
 * would show a dangling `-b`. Whatever follows (`hms -b --plan`) is the value, as home-manager reads it.
 */
function missingValue(option: string, arity: number): Error {
  const what = arity === 1 ? 'a value' : `${arity} values`
  const about = `home-manager's ${homeManagerMeaning[option] ?? 'option'}`
  return usageError(
    `${option} needs ${what} (${about})`,
    `e.g. hms ${option} ${Array(arity).fill('<value>').join(' ')}`,
  )
}

/** Words for the values of home-manager's most common options, for the error above. */
const homeManagerMeaning: Record<string, string> = {
  '-b': 'backup extension',
  '-B': 'backup command',
  '-f': 'configuration file',
  '--file': 'configuration file',
  '-A': 'attribute',
  '-I': 'search path',
  '-j': 'number of build jobs',
  '--max-jobs': 'number of build jobs',
  '--cores': 'cores per build',
  '-c': 'specialisation',
  '--specialisation': 'specialisation',
  '--option': 'nix option name and value',
  '--arg': 'argument name and Nix value',
  '--argstr': 'argument name and string',
  '--override-input': 'input name and flake',
}

/** `-pshoshin`, `-n5`: one of hms's own short options with its value attached. */
function shortWithValue(arg: string, table: Table) {
  const spec = /^-[A-Za-z]./.test(arg) ? table.get(arg.slice(0, 2)) : undefined
  return spec?.value ? spec : undefined
}

const isTypo = (name: string, table: Table): boolean =>
  name.startsWith('--') &&
  !(name in homeManagerArity) &&
  closest(
    name,
    [...table.keys()].filter((n) => n.startsWith('--')),
  ) !== undefined

/**
 * Index of the first bare word that is not an option's value: the subcommand, if any. Options
 * before it are read as switch reads them (switch is the default): `hms -n -b backup` is
 * home-manager's dry run, never `hms log`'s `-n <count>`.
 */
function findSubcommand(argv: readonly string[]): number | undefined {
  const beforeCommand = optionTable('switch')
  let foreign: { name: string; owner: Subcommand } | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    const [name, inline] = splitInline(arg)
    const spec = beforeCommand.get(name)
    const other = spec || name in homeManagerArity ? undefined : otherCommand(name)
    if (spec || other) {
      // `hms --pending push` is fine; `hms --pending` alone is not a switch (see below).
      if (other) foreign ??= { name, owner: other.owner }
      if ((spec ?? other!.spec).value && inline === undefined) i++
    } else if (arg.startsWith('-') && arg !== '-') {
      // A typo of hms's option: commander rejects it (and says which was meant), whatever follows.
      if (isTypo(name, beforeCommand)) return undefined
      if (inline === undefined) i += homeManagerArity[arg] ?? 0
    } else {
      return i
    }
  }
  if (foreign) {
    const { name, owner } = foreign
    const hint = `did you mean: hms ${owner} ${argv.map(shellQuote).join(' ')}`
    throw usageError(`${name} is an option of hms ${owner}, not of a switch`, hint)
  }
  return undefined
}

/**
 * `hms --pending` (forgot `push`): an option of another subcommand, not home-manager's, would
 * otherwise start a switch that home-manager then fails on. Which command it belongs to.
 */
function otherCommand(name: string) {
  for (const owner of subcommands) {
    const spec = owner === 'switch' ? undefined : optionTable(owner).get(name)
    if (spec) return { owner, spec }
  }
  return undefined
}

function splitInline(arg: string): [string, string | undefined] {
  if (!arg.startsWith('--')) return [arg, undefined]
  const eq = arg.indexOf('=')
  return eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)]
}

/** commander's values, under the names the rest of hms reads. */
function optionsOf(command: Subcommand, values: Record<string, unknown>): HmsOptions {
  const { jobs, profile, ...rest } = values
  const given = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined))
  const options: HmsOptions = { ...defaultOptions(), ...given }
  if (command === 'init') options.profileSpecs = (profile as string[] | undefined) ?? []
  else if (profile !== undefined) options.profile = profile as string
  if (jobs !== undefined) options.verifyJobs = jobs as number
  return options
}

/** commander's error, as hms's one-line usage error (exit 2) with the hint after the dash. */
function translate(error: CommanderError, command: Subcommand, words: string[]): Error {
  const text = error.message.replace(/^error: /, '')
  const quoted = /'([^']*)'/.exec(text)?.[1] ?? ''
  const suggestion = /\(Did you mean (.+)\?\)/.exec(text)?.[1]
  switch (error.code) {
    case 'commander.unknownOption': {
      const where = command === 'switch' ? '' : ` for hms ${command}`
      const hint = suggestion ? `did you mean ${suggestion}?` : `see hms ${command} --help`
      return usageError(`unknown option ${quoted}${where}`, hint)
    }
    case 'commander.unknownCommand': {
      const hint = suggestion ? `did you mean "hms ${suggestion}"?` : `commands: ${subcommands.join(', ')}`
      return usageError(`unknown command "${quoted}"`, hint)
    }
    case 'commander.optionMissingArgument': {
      const [name] = quoted.split(/[ ,]/)
      return usageError(`option ${name} needs a value (${quoted.slice(quoted.indexOf('<'))})`, exampleOf(name!))
    }
    case 'commander.excessArguments':
      if (command === 'switch') {
        return usageError(`unexpected argument "${words[0]}"`, 'home-manager options go after the flags, or after --')
      }
      return usageError(`hms ${command} takes no arguments, got "${words[0]}"`, `see hms ${command} --help`)
    default:
      return usageError(text.split('\n')[0]!)
  }
}
