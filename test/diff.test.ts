import { execFileSync } from 'node:child_process'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseStoreName } from '../src/diff/parse-name.js'
import { diffDocumentSchema, errorDocumentSchema } from '../src/plan/schema.js'
import { binWith, noStackTrace, summaryOf, useSandboxes } from './helpers/common.js'
import { asVersionChanges, closureBytes, diffClosures } from './helpers/diff-closures.js'
import { storeNames } from './helpers/drv-names.js'
import { HMS_BIN, type Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()

/** A generation whose closure is one `builtins.toFile` path per name: real store paths, no build. */
function toFileGeneration(s: Sandbox, names: string[], root = 'home-manager-generation'): string {
  const files = names.map((n) => `(builtins.toFile "${n}" "${n} ${s.root}")`).join(' ')
  const expr = `builtins.toFile "${root}" (toString [ ${files} ])`
  const args = ['--eval', '--read-write-mode', '--expr', expr]
  return execFileSync('nix-instantiate', args, { env: s.env, encoding: 'utf8' }).trim().replace(/"/g, '')
}
const flake = ['--flake', '.#mitsio@shoshin']

/** Switches once, then changes ripgrep's version, adds fd and removes git for the next switch. */
async function firstGeneration(s: Sandbox): Promise<void> {
  const first = await s.hms(flake)
  expect(first.exitCode, first.stderr).toBe(0)
  // The first generation has nothing before it to compare with.
  expect(first.stderr).not.toMatch(/home packages|packages? changed/)
  s.setFixture({ packages: { hello: '2.12', ripgrep: '14.2', fd: '9.0' } })
}

const expected = {
  added: [{ name: 'hm-pkg-fd', version: '9.0' }],
  removed: [{ name: 'hm-pkg-git', version: '2.44' }],
  changed: [{ name: 'hm-pkg-ripgrep', from: '14.1', to: '14.2' }],
}

describe('the package diff after a switch', () => {
  it('comes before the summary, whose line counts the packages; hms diff agrees with diff-closures', async () => {
    const s = sandbox()
    await firstGeneration(s)
    const run = await s.hms(flake)
    expect(run.exitCode, run.stderr).toBe(0)
    const lines = run.stderr.split('\n')
    const summary = lines.findIndex((l) => l.startsWith('✔ shoshin switched'))
    expect(lines[summary]).toMatch(
      /^✔ shoshin switched in \d+\.\ds \(generation 2\) · 3 packages changed · pushed \d+ paths, /,
    )
    const at = lines.findIndex((l) => l.startsWith('home packages · closure '))
    expect(at, run.stderr).toBeGreaterThanOrEqual(0)
    expect(lines[at]).toMatch(/^home packages · closure [\d.]+ KiB → [\d.]+ KiB \([+-][\d.]+ [KM]?i?B\)$/)
    expect(lines.slice(at + 1, at + 4)).toEqual([
      '  ~ hm-pkg-ripgrep 14.1 → 14.2',
      '  + hm-pkg-fd 9.0',
      '  - hm-pkg-git 2.44',
    ])
    expect(summary).toBeGreaterThan(at + 3)

    const json = await s.hms(['diff', '--json'])
    expect(json.exitCode, json.stderr).toBe(0)
    const document = diffDocumentSchema.parse(JSON.parse(json.stdout))
    const [one, two] = [document.before, document.after]
    expect([one.generation, two.generation]).toEqual([1, 2])
    expect(two.path).toBe(s.generation()!.path)
    expect(document.diff).toMatchObject(expected)
    expect(asVersionChanges(document.diff)).toEqual(await diffClosures(s, one.path, two.path))
    expect(document.diff.closureBytesBefore).toBe(await closureBytes(s, one.path))
    expect(document.diff.closureBytesAfter).toBe(await closureBytes(s, two.path))

    // The diff is the command's output: on stdout (`> file`, `| less`), stderr left empty.
    const human = await s.hms(['diff', '1', '2'])
    expect([human.exitCode, human.stderr]).toEqual([0, ''])
    const sizes = String.raw`closure [\d.]+ KiB → [\d.]+ KiB \([+-][\d.]+ K?i?B\)`
    const heading = new RegExp(`^generation 1 → 2 · 3 packages changed · ${sizes}$`)
    expect(human.stdout.split('\n')[0]).toMatch(heading)
    expect(human.stdout).toContain('  ~ hm-pkg-ripgrep 14.1 → 14.2\n  + hm-pkg-fd 9.0\n  - hm-pkg-git 2.44\n')
    // -q keeps the heading, the one line that says what changed; -v the whole list.
    const quiet = await s.hms(['diff', '-q'])
    expect([quiet.exitCode, quiet.stderr]).toEqual([0, ''])
    expect(quiet.stdout).toMatch(new RegExp(`${heading.source.slice(0, -1)}\n$`))
    expect((await s.hms(['diff', '-v'])).stdout).toBe(human.stdout)
    const byPath = await s.hms(['diff', two.path, one.path, '--json'])
    expect(diffDocumentSchema.parse(JSON.parse(byPath.stdout)).diff).toMatchObject({
      added: expected.removed,
      removed: expected.added,
      changed: [{ name: 'hm-pkg-ripgrep', from: '14.2', to: '14.1' }],
    })
  })

  it('--json carries it as diff, -q hides it, and a switch without a new generation has none', async () => {
    const s = sandbox()
    await firstGeneration(s)
    const quiet = await s.hms([...flake, '-q'])
    expect(quiet.exitCode, quiet.stderr).toBe(0)
    expect(quiet.stderr).not.toMatch(/home packages|^ {2}[~+-] hm-pkg-|packages? changed/m)
    s.setPackage('ripgrep', '14.3')
    const run = await s.hms([...flake, '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    const [two, three] = [summary.switch?.generation, s.generation()!]
    expect([two, three.number]).toEqual([3, 3])
    const ripgrep = { name: 'hm-pkg-ripgrep', from: '14.2', to: '14.3' }
    expect(summary.diff).toMatchObject({ added: [], removed: [], changed: [ripgrep] })
    const previous = JSON.parse((await s.hms(['diff', '2', '--json'])).stdout)
    expect(summary.diff).toEqual(previous.diff)
    expect(summary.diff!.closureBytesAfter).toBe(await closureBytes(s, three.path))
    expect(asVersionChanges(summary.diff!)).toEqual(await diffClosures(s, previous.before.path, three.path))

    const again = summaryOf((await s.hms([...flake, '--json'])).stdout)
    expect(again.switch?.generation).toBe(3)
    expect(again.diff).toBeNull()
  })

  it('a diff that cannot be computed is one note; the switch and its push are unharmed', async () => {
    const s = sandbox()
    await firstGeneration(s)
    const nix = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
    const fail = 'echo "error: the store is on fire" >&2; exit 1'
    const broken = `#!/bin/sh\ncase " $* " in *" path-info "*) ${fail} ;; esac\nexec ${nix} "$@"\n`
    const run = await s.hms(flake, { env: { PATH: binWith(s, 'nix', broken) } })
    expect(run.exitCode, run.stderr).toBe(0)
    const notes = run.stderr.split('\n').filter((l) => l.includes('package diff'))
    expect(notes).toEqual(['note: no package diff of generations 1 → 2: nix path-info failed: the store is on fire'])
    expect(run.stderr).toMatch(/✔ shoshin switched in \d+\.\ds \(generation 2\) · pushed \d+ paths/)
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toContain(s.generation()!.path)
    expect(run.stderr).not.toMatch(noStackTrace)
  })
})

describe('hms diff', () => {
  it('writes the diff on stdout, in colour only when stdout is a terminal', async () => {
    const s = sandbox()
    await firstGeneration(s)
    expect((await s.hms(flake)).exitCode).toBe(0)
    // util-linux `script`: stdout and stderr on a pseudo-terminal, as a person runs hms.
    const onTerminal = (line: string) =>
      s.run('script', ['-qec', line, '/dev/null'], {
        env: { CI: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm' },
        timeoutMs: 60_000,
      })
    const hms = `node ${HMS_BIN} diff 1 2`
    const green = '\x1b[32m+\x1b[39m hm-pkg-fd 9.0'
    const shown = await onTerminal(`${hms} 2>/dev/null`)
    expect(shown.exitCode, shown.stdout).toBe(0)
    expect(shown.stdout).toContain(green)
    // Piped (`| cat`, `| less`) with stderr still on the terminal: the diff, plain.
    const piped = await onTerminal(`${hms} | od -c | tr -s ' ' | grep -c 033; ${hms} | grep -F '+ hm-pkg-fd'`)
    expect(piped.stdout.replace(/\r/g, '')).toBe('0\n  + hm-pkg-fd 9.0\n')
  })

  it('bad input is one line and exit 2, with --json an error document', async () => {
    const s = sandbox()
    const none = await s.hms(['diff'])
    const nothing = /^hms: no home-manager generation found — looked at .*\n$/
    expect([none.exitCode, none.stderr]).toEqual([2, expect.stringMatching(nothing)])
    expect((await s.hms(flake)).exitCode).toBe(0)
    const hello = s.closure(s.generation()!.path).find((p) => p.includes('-hm-pkg-hello-'))!
    const link = join(s.root, 'hello-link')
    symlinkSync(hello, link)
    const cases: [string[], RegExp][] = [
      [['diff'], /^hms: generation 1 is the first one: there is none before it to compare\n$/],
      [['diff', '7'], /^hms: no generation 7 — generations: 1 \(as home-manager generations lists them\)\n$/],
      [['diff', hello], /^hms: \/nix\/store\/\S+-hm-pkg-hello-2\.12 is not a home-manager generation\n$/],
      [['diff', link], /^hms: \S+\/hello-link is not a home-manager generation \(\/nix\/store\/\S+-hello-2\.12\)\n$/],
      [['diff', 'nowhere'], /^hms: nowhere is neither a generation number nor an existing path\n$/],
      [['diff', '1', '1', '1'], /^hms: hms diff compares two generations, got 3 arguments\n$/],
      [['diff', '--flake', '.#x'], /^hms: unknown option --flake for hms diff — see hms diff --help\n$/],
    ]
    for (const [args, message] of cases) {
      const run = await s.hms(args)
      expect([run.exitCode, run.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)])
      const json = await s.hms([...args, '--json'])
      // An option hms cannot read stops it before it knows the subcommand (as for every other one).
      const command = args.includes('--flake') ? null : 'diff'
      expect(errorDocumentSchema.parse(JSON.parse(json.stdout))).toMatchObject({ command, exitCode: 2 })
    }
  })

  it('groups several versions of one name and multiple outputs as nix store diff-closures does', async () => {
    const s = sandbox()
    const generation = (names: string[]) => toFileGeneration(s, names)
    const before = generation([
      'nix-2.8.1',
      'nix-2.8.1-man',
      'x-1.0',
      'x-2.0',
      'y-1.0',
      'openssl-3.0.1-bin',
      'openssl-3.0.1-dev',
      'bar-unstable',
      'font-bh-100dpi-1.0.3',
      'foo-1.0-lib32',
      'gone-1',
      'perl-5.36',
      'perl-5.38',
    ])
    const after = generation([
      'nix-2.9.0',
      'nix-2.9.0-man',
      'x-2.0',
      'y-1.0',
      'y-1.1',
      'openssl-3.0.2-bin',
      'openssl-3.0.1-dev',
      'bar-stable',
      'font-bh-100dpi-1.0.4',
      'foo-1.1-lib32',
      'new-3',
      'home-manager-path',
      'python3-3.12.4',
      'python3-3.11.9',
    ])
    const run = await s.hms(['diff', before, after, '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const { diff } = diffDocumentSchema.parse(JSON.parse(run.stdout))
    expect(diff).toMatchObject({
      // Two versions of a name added or removed: one entry, as diff-closures' `python3: ∅ → 3.11.9, 3.12.4`.
      added: [
        { name: 'new', version: '3' },
        { name: 'python3', version: '3.11.9, 3.12.4' },
      ],
      removed: [
        { name: 'gone', version: '1' },
        { name: 'perl', version: '5.36, 5.38' },
      ],
      changed: [
        { name: 'font-bh', from: '100dpi-1.0.3', to: '100dpi-1.0.4' },
        { name: 'foo', from: '1.0', to: '1.1' },
        { name: 'nix', from: '2.8.1', to: '2.9.0' },
        { name: 'openssl', from: '3.0.1', to: '3.0.1, 3.0.2' },
        { name: 'x', from: '1.0, 2.0', to: '2.0' },
        { name: 'y', from: '1.0', to: '1.0, 1.1' },
      ],
    })
    const theirs = await diffClosures(s, before, after)
    expect(asVersionChanges(diff)).toEqual(theirs)
    expect(diff.closureBytesBefore).toBe(await closureBytes(s, before))
    // The count is diff-closures' number of names with a version change, here and in the heading.
    const count = Object.keys(theirs).length
    expect(diff.added.length + diff.removed.length + diff.changed.length).toBe(count)
    const human = await s.hms(['diff', before, after, '-q'])
    expect(human.stdout).toContain(` · ${count} packages changed · `)
  })

  it('odd output from nix path-info is one clear line, exit 1, here as in push and verify', async () => {
    const s = sandbox()
    await firstGeneration(s)
    expect((await s.hms(flake)).exitCode).toBe(0)
    const nix = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
    const odd = `#!/bin/sh\ncase " $* " in *" path-info "*) echo 'warning: odd'; exit 0 ;; esac\nexec ${nix} "$@"\n`
    const run = await s.hms(['diff'], { env: { PATH: binWith(s, 'nix', odd) } })
    const message = 'hms: nix path-info printed something that is not JSON — check your Nix installation'
    const oneLine = expect.stringMatching(new RegExp(`^${message}.*\n$`))
    expect([run.exitCode, run.stdout, run.stderr]).toEqual([1, '', oneLine])
  })

  it('names a side the profile does not list as it was typed, the heading within 120 characters', async () => {
    const s = sandbox()
    expect((await s.hms(flake)).exitCode).toBe(0)
    const built = toFileGeneration(s, ['hello-2.13'])
    symlinkSync(built, join(s.flakeDir, 'result'))
    const typed = await s.hms(['diff', './result'])
    expect([typed.exitCode, typed.stderr]).toEqual([0, ''])
    expect(typed.stdout).toMatch(/^\.\/result → generation 1 · \d+ packages changed · closure /)
    // A store path typed in full is cut to its hash's start.
    const stored = await s.hms(['diff', built, './result'])
    const hash = built.slice('/nix/store/'.length, '/nix/store/'.length + 8)
    expect(stored.stdout).toMatch(new RegExp(`^/nix/store/${hash}… → \\./result · no package changed · closure `))
    for (const run of [typed, stored]) {
      for (const line of run.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120)
    }
  })

  it('parseStoreName reads odd store names (outputs, no versions) as nix store diff-closures does', async () => {
    const s = sandbox()
    // Roots named apart from the table: home-manager-generation would be `home-manager` on both sides.
    const before = toFileGeneration(s, ['base-1'], 'root')
    const after = toFileGeneration(s, ['base-1', ...storeNames.map(([text]) => text)], 'root')
    const expected: Record<string, { removed: string[]; added: string[] }> = {}
    for (const [text] of storeNames) {
      const { name, version } = parseStoreName(text)
      expected[name] ??= { removed: [], added: [] }
      const entry = expected[name]
      if (!entry.added.includes(version || 'ε')) entry.added.push(version || 'ε')
    }
    for (const entry of Object.values(expected)) entry.added.sort()
    expect(await diffClosures(s, before, after, true)).toEqual(expected)
  })
})
