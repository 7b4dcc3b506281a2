// hms against the REAL home-manager CLI of each supported version (unpacked from ../shared/third-party,
// placeholders filled with this machine's tools), switching a fixture flake with real Nix.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { summaryOf, until, useSandboxes } from './helpers/common.js'
import { HMS_BIN, REPO_ROOT, type RunOptions, type Sandbox } from './helpers/sandbox.js'
import {
  homeManagerArchive,
  homeManagerScript,
  homeManagerVersions,
  installHomeManager,
  scriptOptions,
} from './helpers/third-party.js'

const REAL_FLAKE = path.join(REPO_ROOT, 'test/fixtures/real-home')
const hasNix = (() => {
  try {
    execFileSync('nix', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasNix) console.warn('skipping the real home-manager suite: nix is not installed (see README, Installing Nix)')

/** A value for each home-manager option that takes some: all of them go into one switch. */
const optionValues: Record<string, string[]> = {
  '-f': ['x.nix'],
  '--file': ['x.nix'],
  '-A': ['y'],
  '-I': ['nixpkgs=/tmp'],
  '-b': ['bak'],
  '-B': ['mv -f'],
  '--update-input': ['nothing'],
  '--override-input': ['nothing', '/tmp'],
  '-c': ['dark'],
  '--specialisation': ['dark'],
  '--cores': ['1'],
  '-j': ['1'],
  '--max-jobs': ['1'],
  '--option': ['cores', '1'],
  '--builders': [''],
  '--log-format': ['raw'],
  '--experimental-features': ['nix-command flakes'],
  '--extra-experimental-features': ['nix-command flakes'],
}
/** Refused by nix for flakes ("incompatible with flakes"); checked on their own. */
const flakeless = new Set(['--arg', '--argstr'])

interface World {
  s: Sandbox
  flake: string
  /** What the sandbox env needs on top: the real home-manager first on PATH, flakes on. */
  env: Record<string, string>
  hms(args: string[], opts?: RunOptions): ReturnType<Sandbox['hms']>
  hm(args: string[]): ReturnType<Sandbox['run']>
  setFixture(patch: Record<string, unknown>): void
  /** Generation ids from `home-manager generations`, newest first, and which one it marks current. */
  generations(): Promise<{ ids: number[]; current?: number }>
}

describe.skipIf(!hasNix).each(homeManagerVersions)('the real home-manager %s', (version) => {
  let dir: string
  let bin: string
  const archive = homeManagerArchive(version)!
  const sandbox = useSandboxes()
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `hms-hm-${version}-`))
    bin = installHomeManager(archive, dir)
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  function world(): World {
    const s = sandbox()
    const flake = path.join(s.root, 'real-flake')
    fs.cpSync(REAL_FLAKE, flake, { recursive: true })
    const packages = path.join(flake, 'packages.json')
    const setFixture = (patch: Record<string, unknown>) =>
      fs.writeFileSync(packages, JSON.stringify({ ...JSON.parse(fs.readFileSync(packages, 'utf8')), ...patch }))
    setFixture({ salt: `${path.basename(s.root)}-${version}` })
    fs.mkdirSync(path.join(s.env.XDG_STATE_HOME!, 'nix/profiles'), { recursive: true })
    const env = {
      PATH: `${bin}:${s.env.PATH}`,
      NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes\n',
    }
    const hm = (args: string[]) => s.run('home-manager', args, { env, cwd: flake })
    return {
      s,
      flake,
      env,
      hm,
      setFixture,
      hms: (args, opts = {}) => s.hms(args, { ...opts, cwd: flake, env: { ...env, ...opts.env } }),
      async generations() {
        const listed = await hm(['generations'])
        const lines = listed.stdout.trim().split('\n').filter(Boolean)
        const ids = lines.map((l) => Number(/: id (\d+) ->/.exec(l)?.[1]))
        // 24.05 marks no line; its newest generation is the current one after a switch.
        const marked = lines.findIndex((l) => l.endsWith('(current)'))
        return { ids, current: marked >= 0 ? ids[marked] : undefined }
      },
    }
  }

  const names = (paths: string[]) => paths.map((p) => p.slice(44)).sort()
  const sets25 = version !== 'release-24.05'

  it('switches and pushes to Cachix; a changed package pushes only what changed; generations agree', async () => {
    const w = world()
    const first = await w.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(first.exitCode, first.stderr).toBe(0)
    const one = summaryOf(first.stdout)
    const gen1 = w.s.generation()!
    expect(one.switch).toMatchObject({ ok: true, generation: gen1.number })
    expect(await w.generations()).toMatchObject({ ids: [gen1.number] })
    const cache = path.join(w.s.cacheRoot, 'modular-workspace')
    expect([...w.s.cachePaths(cache)]).toEqual(expect.arrayContaining(w.s.closure(gen1.path)))
    // Built by the switch beyond the generation: nix-env's profile and the news file.
    expect(names(one.push.outsideGeneration)).toEqual(
      expect.arrayContaining(['env-manifest.nix', 'hm-news.json', 'user-environment']),
    )

    w.setFixture({ packages: { hello: '2.13', ripgrep: '14.1' } })
    const second = await w.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(second.exitCode, second.stderr).toBe(0)
    const two = summaryOf(second.stdout)
    const gen2 = w.s.generation()!
    expect(gen2.number).toBe(gen1.number + 1)
    expect(two.switch!.generation).toBe(gen2.number)
    const listed = await w.generations()
    expect(listed.ids[0]).toBe(two.switch!.generation)
    if (sets25) expect(listed.current).toBe(two.switch!.generation)
    expect(names(two.push.pushed.map((p) => p.path))).toEqual([
      'activation-script',
      'env-manifest.nix',
      'hm-pkg-hello-2.13',
      'home-manager-generation',
      'home-manager-path',
      'user-environment',
    ])
    expect(names(two.push.outsideGeneration)).toEqual(['env-manifest.nix', 'user-environment'])
    // The package diff, and hms diff reading generation numbers as this home-manager lists them.
    const hello = { name: 'hm-pkg-hello', from: '2.12', to: '2.13' }
    expect(two.diff).toMatchObject({ added: [], removed: [], changed: [hello] })
    const [newest, previous] = listed.ids
    const diffed = JSON.parse((await w.hms(['diff', String(previous), String(newest), '--json'])).stdout)
    expect(diffed).toMatchObject({ before: { path: gen1.path }, after: { path: gen2.path }, diff: two.diff })
  })

  it('pushes to a file:// cache what the switch built', async () => {
    const w = world()
    const cache = path.join(w.s.root, 'file-cache')
    const run = await w.hms(['--flake', '.#mitsio@gyakusatsu', '--json'], { env: { HMS_CACHE: `file://${cache}` } })
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    const gen = w.s.generation()!
    expect(summary.switch!.generation).toBe(gen.number)
    expect((await w.generations()).ids[0]).toBe(gen.number)
    expect(summary.push.failed).toEqual([])
    const inCache = w.s.cachePaths(cache)
    expect([...inCache]).toEqual(expect.arrayContaining(w.s.closure(gen.path)))
    for (const p of summary.push.pushed) expect(inCache.has(p.path)).toBe(true)
  })

  it('passes every value option of this version through with its values', async () => {
    const w = world()
    const options = [...scriptOptions(homeManagerScript(archive))].filter(
      ([name, n]) => n > 0 && name !== '--flake' && !flakeless.has(name),
    )
    const argv = options.flatMap(([name, n]) => {
      const values = optionValues[name]
      if (values?.length !== n) throw new Error(`no test value for home-manager ${version}'s ${name} (${n} values)`)
      return [name, ...values]
    })
    const run = await w.hms(['--flake', '.#mitsio@shoshin', ...argv, '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.command.slice(summary.command.indexOf('home-manager'))).toEqual([
      'home-manager',
      'switch',
      '--flake',
      '.#mitsio@shoshin',
      ...argv,
    ])
    expect(summary.switch!.generation).toBe(w.s.generation()!.number)

    for (const name of flakeless) {
      const refused = await w.hms(['--flake', '.#mitsio@shoshin', name, 'n', '1'])
      // nix itself got the option and its two values: hms read none of them as its own words.
      expect(refused.stderr).toMatch(/'--arg' and '--argstr' are incompatible with flakes/)
      expect(refused.stderr).not.toMatch(/^hms: /m)
      expect(refused.exitCode).toBe(1)
    }
  })

  it('lets home-manager choose the attribute when the flake names none (its $USER fallback)', async () => {
    const w = world()
    fs.writeFileSync(path.join(w.s.root, 'hms.json'), JSON.stringify({ flake: w.flake, user: 'mitsio' }))
    const run = await w.hms(['--json'], { env: { HMS_CONFIG: path.join(w.s.root, 'hms.json') } })
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.command.slice(summary.command.indexOf('home-manager'))).toEqual([
      'home-manager',
      'switch',
      '--flake',
      w.flake,
    ])
    // This machine is neither shoshin nor gyakusatsu: home-manager fell back to homeConfigurations.mitsio.
    expect(fs.readFileSync(path.join(w.s.home, '.config/hm-fixture/config'), 'utf8')).toBe('host = mitsio\n')
    expect(summary.switch!.generation).toBe(w.s.generation()!.number)
  })

  it('reports a failed activation with the generation it left current, and still pushes what was built', async () => {
    const w = world()
    const inTheWay = path.join(w.s.home, '.config/hm-fixture/config')
    fs.mkdirSync(path.dirname(inTheWay), { recursive: true })
    fs.writeFileSync(inTheWay, 'mine\n')
    const run = await w.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.stderr).toMatch(/Existing file '.*config' is in the way/)
    expect(run.exitCode).toBe(1)
    const summary = summaryOf(run.stdout)
    expect(summary.switch!.ok).toBe(false)
    expect(summary.exitCode).toBe(1)
    const cache = w.s.cachePaths(path.join(w.s.cacheRoot, 'modular-workspace'))
    const pushed = summary.push.pushed.map((p) => p.path)
    expect(names(pushed)).toEqual(expect.arrayContaining(['home-manager-generation', 'hm-pkg-hello-2.12']))
    for (const p of pushed) expect(cache.has(p)).toBe(true)
    if (sets25) {
      // 25.11+ set the profile before activating: the new generation is current although activation failed.
      const gen = w.s.generation()!
      expect(summary.switch!.generation).toBe(gen.number)
      expect((await w.generations()).current).toBe(gen.number)
      expect(summary.notes.join('\n')).toMatch(new RegExp(`failed after generation ${gen.number} became current`))
    } else {
      // 24.05's activate checks the link targets before it sets the profile: no generation at all.
      expect(w.s.generation()).toBeUndefined()
      expect(summary.switch!.generation).toBeNull()
    }
  })

  it('exits 1 like nix build when the build fails, with no generation', async () => {
    const w = world()
    w.setFixture({ fail: true, failPackage: 'hello' })
    const run = await w.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.stderr).toMatch(/building hello-2.12 failed on purpose/)
    expect(run.exitCode).toBe(1)
    expect(summaryOf(run.stdout).switch).toMatchObject({ ok: false, exitCode: 1, generation: null })
    expect(w.s.generation()).toBeUndefined()
  })

  describe('Ctrl-C on a terminal', () => {
    it('during the build: exit 130, no generation, nothing reported switched', async () => {
      const w = world()
      w.setFixture({ sleep: 60, sleepPackage: 'ripgrep' })
      // -L: nix build shows build logs only when asked.
      const t = await onTmux(w, ['--flake', '.#mitsio@shoshin', '-L', '--json'], {}, (screen) =>
        /ripgrep sleeps 60 s/.test(screen),
      )
      expect(t.exitCode, t.screen).toBe(130)
      expect(t.summary.switch).toMatchObject({ ok: false, generation: null, signal: 'SIGINT' })
      expect(w.s.generation()).toBeUndefined()
    }, 150_000)

    it('during activation: never a completed switch; nothing is sent after the key, ' +
      'the generation is queued', async () => {
      const w = world()
      const cache = path.join(w.s.root, 'file-cache')
      // Ctrl-C while activation runs: the build is over, its push (after home-manager exits) has not started.
      const t = await onTmux(
        w,
        ['--flake', '.#mitsio@shoshin', '--json'],
        { HMS_CACHE: `file://${cache}`, HM_FIXTURE_ACTIVATION_SLEEP: '60' },
        (screen) => /activation sleeps 60 s/.test(screen),
      )
      expect(t.exitCode, t.screen).toBe(130)
      const gen = w.s.generation()!
      // Both behaviours set the profile before this point (the CLI in 25.11+, activate in 24.05).
      expect(t.summary.switch).toMatchObject({ ok: false, generation: gen.number, signal: 'SIGINT' })
      expect(t.summary.notes.join('\n')).toMatch(
        /while home-manager activated generation \d+: it is current, but its activation did not finish/,
      )
      expect(t.summary.push.pushed).toEqual([])
      expect(t.summary.push.queued).toContain(gen.path)
      expect(t.screen).not.toMatch(/failed to push/)
    }, 150_000)
  })
})

/**
 * hms on a real pseudo-terminal in a PRIVATE tmux server (`-S <sandbox>/tmux.sock`, never the
 * user's): waits until `ready` holds for the screen, types Ctrl-C, and waits for hms to end.
 */
async function onTmux(w: World, args: string[], env: Record<string, string>, ready: (screen: string) => boolean) {
  const { s } = w
  const sock = path.join(s.root, 'tmux.sock')
  const out = path.join(s.root, 'summary.json')
  const rc = path.join(s.root, 'rc')
  const vars: Record<string, string> = { ...s.env, ...w.env, ...env, TERM: 'xterm' }
  delete vars.CI
  const quote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`
  const script = [
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${quote(v)}`),
    `cd ${quote(w.flake)}`,
    // A trap, not an ignore: hms must get Ctrl-C with its default meaning; this shell waits to record the code.
    'trap : INT',
    `${quote(process.execPath)} ${quote(HMS_BIN)} ${args.map(quote).join(' ')} >${quote(out)}`,
    `echo $? >${quote(rc)}`,
  ].join('\n')
  fs.writeFileSync(path.join(s.root, 'run.sh'), script)
  const tmux = (...a: string[]) =>
    execFileSync('tmux', ['-S', sock, ...a], { encoding: 'utf8', env: { ...s.env, TERM: 'xterm' } })
  tmux('new-session', '-d', '-x', '160', '-y', '50', `bash ${quote(path.join(s.root, 'run.sh'))}; sleep 30`)
  try {
    const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-500')
    await until(() => ready(screen()), 90_000)
    tmux('send-keys', 'C-c')
    await until(() => fs.existsSync(rc) && fs.readFileSync(rc, 'utf8').endsWith('\n'), 60_000)
    return {
      exitCode: Number(fs.readFileSync(rc, 'utf8')),
      summary: summaryOf(fs.readFileSync(out, 'utf8')),
      screen: screen(),
    }
  } finally {
    try {
      tmux('kill-server')
    } catch {
      // The server ended with its only session.
    }
  }
}
