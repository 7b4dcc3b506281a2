import { describe, expect, it } from 'vitest'
import { parseArgs, subcommands } from '../../src/cli/args.js'
import { commandOf, commandTree, namesOf, optionTable } from '../../src/cli/command-tree.js'
import { HmsError } from '../../src/lib/errors.js'

/** The HmsError parseArgs throws for argv (failing the test when it throws none, or another error). */
function usageError(argv: string[]): HmsError {
  let thrown: unknown
  try {
    parseArgs(argv)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(HmsError)
  return thrown as HmsError
}

describe('parseArgs', () => {
  it('defaults to switch with nothing passed through', () => {
    const args = parseArgs([])
    expect(args.command).toBe('switch')
    expect(args.passthrough).toEqual([])
    expect(args.options.push).toBe(true)
  })

  it.each([
    [
      ['-b', 'backup'],
      ['-b', 'backup'],
    ],
    [
      ['-c', 'work', '-j', '4'],
      ['-c', 'work', '-j', '4'],
    ],
    [
      ['--impure', '--show-trace', '-n'],
      ['--impure', '--show-trace', '-n'],
    ],
    [
      ['--option', 'cores', '2', '-I', 'nixpkgs=/x'],
      ['--option', 'cores', '2', '-I', 'nixpkgs=/x'],
    ],
    [
      ['--arg', 'n', 'v', '--argstr', 'a', 'b'],
      ['--arg', 'n', 'v', '--argstr', 'a', 'b'],
    ],
    [
      ['-f', 'home.nix', '-A', 'mitsio', '-L'],
      ['-f', 'home.nix', '-A', 'mitsio', '-L'],
    ],
    [
      ['--extra-experimental-features', 'nix-command flakes', '--log-format', 'bar'],
      ['--extra-experimental-features', 'nix-command flakes', '--log-format', 'bar'],
    ],
    [
      ['--builders', '', '--experimental-features', 'flakes', '-B', 'rm'],
      ['--builders', '', '--experimental-features', 'flakes', '-B', 'rm'],
    ],
    [
      ['--override-input', 'nixpkgs', '/p', '--specialisation', 'x'],
      ['--override-input', 'nixpkgs', '/p', '--specialisation', 'x'],
    ],
  ])('passes home-manager options %j through in order with their values', (argv, expected) => {
    expect(parseArgs(argv).passthrough).toEqual(expected)
  })

  it('keeps pass-through order around hms options and hands -v to both', () => {
    const args = parseArgs(['-b', 'bak', '--cache', 'c', '-v', '-j', '2', '--json', '--impure'])
    expect(args.passthrough).toEqual(['-b', 'bak', '-v', '-j', '2', '--impure'])
    expect(args.options).toMatchObject({ cache: 'c', verbose: true, json: true })
  })

  it('does not mistake an option value for an hms option or a subcommand', () => {
    expect(parseArgs(['-b', '--json']).options.json).toBe(false)
    expect(parseArgs(['-c', 'push']).command).toBe('switch')
    expect(parseArgs(['--option', 'k', '--cache']).options.cache).toBeUndefined()
  })

  it('hands everything after -- to home-manager', () => {
    const args = parseArgs(['--plan', '--', '--cache', 'x', '-p'])
    expect(args.options.plan).toBe(true)
    expect(args.options.cache).toBeUndefined()
    expect(args.passthrough).toEqual(['--cache', 'x', '-p'])
  })

  it('reads hms options in both spellings', () => {
    expect(parseArgs(['--profile=kinoite']).options.profile).toBe('kinoite')
    expect(parseArgs(['-p', 'kinoite']).options.profile).toBe('kinoite')
    expect(parseArgs(['--flake', '.#mitsio@shoshin']).options.flake).toBe('.#mitsio@shoshin')
    expect(parseArgs(['--push-jobs', '8', '--compression-method', 'xz']).options).toMatchObject({
      pushJobs: 8,
      compressionMethod: 'xz',
    })
    expect(parseArgs(['--no-push', '--strict', '-q']).options).toMatchObject({ push: false, strict: true, quiet: true })
  })

  it('recognises a subcommand after options', () => {
    expect(parseArgs(['--json', 'push', '/nix/store/x']).command).toBe('push')
    expect(parseArgs(['switch', '-b', 'x']).passthrough).toEqual(['-b', 'x'])
    // As home-manager reads it: the word after -b is its value, whatever it looks like.
    expect(parseArgs(['-b', '--plan'])).toMatchObject({ passthrough: ['-b', '--plan'], options: { plan: false } })
  })

  it.each([
    [['--cache'], /needs a value/],
    [['--push-jobs', '0'], /positive whole number/],
    [['--push-jobs', 'many'], /positive whole number/],
    [['--compression-method', 'gzip'], /xz or zstd/],
    [['--plan=yes'], /takes no value/],
    [['swich'], /did you mean "hms switch"/],
    [['--jsno'], /did you mean --json/],
    [['--cahce', 'x'], /did you mean --cache/],
    [['switch', 'stray'], /unexpected argument/],
    [['--pending'], /--pending is an option of hms push.*did you mean: hms push --pending$/],
    [['--pending', '--drop', '--cache', 'old cache'], /did you mean: hms push --pending --drop --cache 'old cache'$/],
    [['--timeout', '5'], /option of hms verify.*hms verify --timeout 5$/],
    [['--plan', '-b'], /^-b needs a value \(home-manager's backup extension\) e\.g\. hms -b <value>$/],
    [['-b'], /^-b needs a value/],
    [['--option', 'cores'], /^--option needs 2 values/],
    [['switch', '--flake', '.#a@b', '-j'], /^-j needs a value/],
  ])('rejects %j with a usage error', (argv, message) => {
    const error = usageError(argv)
    expect(error.exitCode).toBe(2)
    expect(`${error.message} ${error.hint}`).toMatch(message)
  })

  it('lets unknown options home-manager may know pass through', () => {
    expect(parseArgs(['--refresh', '--some-future-flag']).passthrough).toEqual(['--refresh', '--some-future-flag'])
  })
})

describe('subcommand options', () => {
  it('reads options of the subcommand wherever they stand', () => {
    expect(parseArgs(['--json', 'push', '--pending']).options).toMatchObject({ json: true, pending: true })
    expect(parseArgs(['log', '-n', '3']).options.lines).toBe(3)
    expect(parseArgs(['--mode', 'generation']).options.mode).toBe('generation')
    expect(parseArgs(['init', '--profile', 'a=b:c', '--profile', 'd=e']).options.profileSpecs).toEqual(['a=b:c', 'd=e'])
  })

  it('keeps -n for home-manager in switch but as a count in log', () => {
    expect(parseArgs(['-n']).passthrough).toEqual(['-n'])
    expect(parseArgs(['log', '-n', '2']).passthrough).toEqual([])
  })

  it('rejects unknown options outside switch, with a suggestion', () => {
    expect(() => parseArgs(['push', '--pendng'])).toThrow(/unknown option --pendng for hms push/)
    expect(() => parseArgs(['status', '-b', 'x'])).toThrow(/unknown option -b for hms status/)
  })
})

describe('home-manager short flags before any subcommand', () => {
  it('keeps -n as the dry run, never log -n', () => {
    expect(parseArgs(['-n', '-b', 'backup'])).toMatchObject({ command: 'switch', passthrough: ['-n', '-b', 'backup'] })
    expect(parseArgs(['-n', '--flake', '.#u@shoshin'])).toMatchObject({
      command: 'switch',
      passthrough: ['-n'],
      options: { flake: '.#u@shoshin' },
    })
  })
})

describe('review of the command line by a user', () => {
  it('takes short values attached, as getopt does', () => {
    expect(parseArgs(['-pshoshin', '--plan']).options.profile).toBe('shoshin')
    expect(parseArgs(['log', '-n1']).options.lines).toBe(1)
    expect(parseArgs(['-j4']).passthrough).toEqual(['-j4'])
  })

  it.each([
    [['--cache', ''], /needs a value .*not an empty one/],
    [['--cache'], /e\.g\. hms --cache my-cache/],
    [['status', 'extra'], /hms status takes no arguments/],
    [['log', 'extra'], /hms log takes no arguments/],
    [['doctor', 'extra'], /hms doctor takes no arguments/],
  ])('%j is a usage error', (argv, message) => {
    const error = usageError(argv)
    expect(error.exitCode).toBe(2)
    expect(`${error.message} ${error.hint}`).toMatch(message)
  })
})

describe("commander reads hms's words", () => {
  it('takes grouped short options of a subcommand, as getopt does', () => {
    expect(parseArgs(['log', '-qn', '3']).options).toMatchObject({ quiet: true, lines: 3 })
    expect(parseArgs(['push', '-qv', '--pending']).options).toMatchObject({ quiet: true, verbose: true, pending: true })
  })

  it("keeps hms push -- PATH… as push's paths, not home-manager's", () => {
    expect(parseArgs(['push', '--json', '--', '--odd-name', '/nix/store/x'])).toMatchObject({
      command: 'push',
      options: { json: true },
      passthrough: [],
      positionals: ['--odd-name', '/nix/store/x'],
    })
  })
})

describe('the pre-pass and commander', () => {
  it.each(subcommands)('read the same options of hms %s', (command) => {
    const options = commandOf(commandTree(), command).options
    const fromCommander = options.flatMap((o) => namesOf(o).map((name) => [name, o.required] as const))
    expect([...optionTable(command)].map(([name, { value }]) => [name, value])).toEqual(fromCommander)
  })
})
