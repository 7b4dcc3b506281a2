import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { joined, noStackTrace as stackTrace, pathWithout, summaryOf, useSandboxes } from './helpers/common.js'
import { SECRET_MARKER } from './helpers/sandbox.js'

const sandbox = useSandboxes()

const noStackTrace = (text: string) => expect(text).not.toMatch(stackTrace)

describe('hms switch (watch-exec through cachix)', () => {
  it('pushes every built path, and nothing else, and the summary matches the cache', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    const generation = s.generation()!
    expect(summary.switch).toMatchObject({ ok: true, exitCode: 0, generation: generation.number })
    const inCache = s.cachePaths(s.cacheDir('modular-workspace'))
    expect([...inCache].sort()).toEqual(s.built().sort())
    expect(summary.push.pushed.map((p) => p.path).sort()).toEqual([...inCache].sort())
    // Built beside the generation, pushed all the same, and named in the summary.
    expect(summary.push.outsideGeneration.map((p) => p.slice(44)).sort()).toEqual([
      'env-manifest.nix',
      'hm-news.json',
      'user-environment',
    ])
    const sizes = s.cacheNarSizes(s.cacheDir('modular-workspace'))
    expect(summary.push.bytes).toBe([...sizes.values()].reduce((a, b) => a + b, 0))
    for (const p of summary.push.pushed) expect(p.bytes).toBe(sizes.get(p.path))
    expect(run.stderr).toContain('Starting Home Manager activation')
    noStackTrace(run.stderr)
  })

  it('prints a one-line summary and lets home-manager output through in order', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(run.exitCode, run.stderr).toBe(0)
    const generation = s.generation()!
    const pushed = s.cachePaths(s.cacheDir('modular-workspace')).size
    expect(run.stderr).toMatch(
      new RegExp(
        `✔ shoshin switched in \\d+\\.\\ds \\(generation ${generation.number}\\) · pushed ${pushed} paths, ` +
          `[\\d.]+ KiB → modular-workspace`,
      ),
    )
    const activation = ['Starting Home Manager activation', 'Activating linkGeneration', 'Activating onFilesChange']
    const at = activation.map((line) => run.stdout.indexOf(line))
    expect(at.every((i) => i >= 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    expect(run.stderr).not.toMatch(/^Pushing \/nix\/store/m)
    expect(run.stderr).toMatch(/building '.*home-manager-generation\.drv'/)
  })

  it("--verbose shows cachix's own lines and every pushed path", async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '-v'])
    expect(run.exitCode, run.stderr).toBe(0)
    const pushed = [...s.cachePaths(s.cacheDir('modular-workspace'))]
    expect(pushed.length).toBeGreaterThan(0)
    for (const path of pushed) {
      expect(run.stderr).toMatch(new RegExp(`^Pushing ${path} \\([\\d.]+ [KM]?i?B\\)$`, 'm'))
      expect(run.stderr).toMatch(new RegExp(`^  pushed ${path} \\([\\d.]+ [KM]?i?B\\)$`, 'm'))
    }
  })

  it('pushes nothing on a rerun without change, and still switches', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin'])).exitCode).toBe(0)
    const before = s.cachePaths(s.cacheDir('modular-workspace'))
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.switch?.ok).toBe(true)
    expect(summary.push.pushed).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(before)
  })

  it(
    'an activation that fails after the profile was set: switch not ok, the generation given, ' +
      'what was built pushed',
    async () => {
      const s = sandbox()
      mkdirSync(join(s.home, '.config/hm-fixture'), { recursive: true })
      writeFileSync(join(s.home, '.config/hm-fixture/config'), 'mine\n')
      const human = await s.hms(['--flake', '.#mitsio@shoshin'])
      expect(human.exitCode).toBe(1)
      expect(human.stderr).toMatch(
        joined(
          /✖ shoshin switch failed after [\d.]+s /,
          /\(home-manager exited with 1; generation 1 is current but not fully activated\) · pushed \d+ paths/,
        ),
      )

      s.setPackage('git', '2.45')
      const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
      expect(run.exitCode).toBe(1)
      const summary = summaryOf(run.stdout)
      const generation = s.generation()!
      expect(generation.number).toBe(2)
      expect(summary.switch).toMatchObject({ ok: false, exitCode: 1, generation: 2, signal: null })
      expect(summary.notes).toContain(
        'home-manager failed after generation 2 became current (its activation did not finish); ' +
          'what was built is pushed',
      )
      const inCache = s.cachePaths(s.cacheDir('modular-workspace'))
      expect(summary.push.pushed.map((p) => p.path)).toContain(generation.path)
      for (const p of summary.push.pushed) expect(inCache.has(p.path)).toBe(true)
    },
  )

  it('after one package changes, pushes only the new paths', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin'])).exitCode).toBe(0)
    const old = new Set(s.built())
    s.setPackage('ripgrep', '14.2')
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const fresh = s.built().filter((p) => !old.has(p))
    const pushed = summaryOf(run.stdout).push.pushed.map((p) => p.path)
    expect(pushed.sort()).toEqual(fresh.sort())
    expect(pushed.some((p) => p.endsWith('-hm-pkg-ripgrep-14.2'))).toBe(true)
    expect(pushed.some((p) => p.includes('-hm-pkg-git-'))).toBe(false)
  })

  it("pushes to a profile's own cache when the flake attribute names its host", async () => {
    const s = sandbox()
    s.cacheDir('gyakusatsu-cache')
    const configDir = join(s.env.XDG_CONFIG_HOME!, 'hms')
    mkdirSync(configDir, { recursive: true })
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({
        cache: 'modular-workspace',
        profiles: { gyakusatsu: { hosts: ['gyakusatsu'], cache: 'gyakusatsu-cache' }, shoshin: {} },
      }),
    )
    const run = await s.hms(['--flake', '.#mitsio@gyakusatsu', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout)).toMatchObject({ profile: 'gyakusatsu', cache: 'gyakusatsu-cache' })
    expect(s.cachePaths(s.cacheDir('gyakusatsu-cache'))).toEqual(new Set(s.built('mitsio@gyakusatsu')))
    expect(s.cachePaths(s.cacheDir('modular-workspace')).size).toBe(0)
  })

  it('lets a second host substitute the whole new generation from the cache', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@kinoite'])).exitCode).toBe(0)
    const generation = s.generation()!
    const pulled = await s.substitute(s.cacheDir('modular-workspace'), generation.path)
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    expect(readFileSync(join(pulled.storeDir, generation.path.slice(1), 'activate'), 'utf8').length).toBeGreaterThan(0)
  })
})

describe('hms switch when the push cannot happen', () => {
  it('network failure: switch exits 0, failures reported and queued; --strict gives 3', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json', '--retries', '0'], {
      env: { CACHIX_STANDIN_FAIL: 'network' },
    })
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.switch?.ok).toBe(true)
    expect(summary.push.failed.length).toBeGreaterThan(0)
    expect(summary.push.pushed).toEqual([])
    expect(summary.push.queued.sort()).toEqual([...summary.push.failed].sort())
    expect(s.cachePaths(s.cacheDir('modular-workspace')).size).toBe(0)

    s.setPackage('hello', '2.13')
    const strict = await s.hms(['--flake', '.#mitsio@shoshin', '--strict', '--retries', '0'], {
      env: { CACHIX_STANDIN_FAIL: 'network' },
    })
    expect(strict.exitCode).toBe(3)
    expect(strict.stderr).toMatch(/^✖ \d+ paths failed to push: \/nix\/store\//m)
    expect(strict.stderr).toMatch(
      /queued for modular-workspace; hms pushes them on its next run, or now: hms push --pending/,
    )
    expect(strict.stderr).not.toMatch(/✗/)
    expect(s.generation()!.path).toMatch(/home-manager-generation$/)
    noStackTrace(strict.stderr)
  })

  it('home-manager failure: its exit code and message come through, nothing new linked', async () => {
    const s = sandbox()
    s.setFixture({ fail: true })
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.exitCode).not.toBe(0)
    expect(run.exitCode).not.toBe(2)
    const summary = summaryOf(run.stdout)
    expect(summary.switch).toMatchObject({ ok: false, exitCode: run.exitCode, generation: null })
    expect(run.stderr).toContain('failed on purpose')
    expect(s.generation()).toBeUndefined()
    expect(summary.push.pushed.some((p) => p.path.endsWith('home-manager-generation'))).toBe(false)
    noStackTrace(run.stderr)
  })

  it('no credentials: plain switch, one-line warning with the fix, generation queued, exit 0', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/^! no Cachix credentials found — switching without pushing.*cachix authtoken/m)
    expect(run.stderr).not.toContain('Neither auth token')
    const summary = summaryOf(run.stdout)
    expect(summary).toMatchObject({
      mode: 'plain',
      switch: { ok: true },
      push: { attempted: false, skippedReason: 'no Cachix credentials found' },
    })
    expect(summary.push.queued).toEqual([s.generation()!.path])
    expect(s.cachePaths(s.cacheDir('modular-workspace')).size).toBe(0)
  })

  it('no credentials under --strict: exit 2 before switching', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--strict'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    expect(run.exitCode).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(s.generation()).toBeUndefined()
  })

  it('cachix missing: plain switch, warning, exit 0', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { PATH: pathWithout(s, 'cachix') } })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      /^! cachix not found on PATH — switching without pushing.*nix profile install nixpkgs#cachix/m,
    )
    expect(s.generation()?.number).toBe(1)
  })

  it('cachix too old: warns and switches', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_STANDIN_VERSION: '1.6.1' } })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/cachix 1\.6\.1 is too old \(watch-exec needs 1\.7\+\)/)
    expect(s.generation()?.number).toBe(1)
  })

  it('a cache cachix refuses: falls back to a plain switch', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', 'no-such-cache'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      /cachix refused to run: Binary cache no-such-cache doesn't exist or you don't have access\./,
    )
    expect(s.generation()?.number).toBe(1)
  })

  it('home-manager missing: exit 127 with a hint', async () => {
    const s = sandbox()
    const run = await s.hms([], { env: { PATH: pathWithout(s, 'home-manager') } })
    expect(run.exitCode).toBe(127)
    expect(run.stderr).toMatch(/^hms: home-manager not found on PATH — install it/)
  })
})

describe('hms switch command line', () => {
  it('--plan prints the plan and runs nothing', async () => {
    const s = sandbox()
    const run = await s.hms(['--plan', '--flake', '.#mitsio@gyakusatsu', '-b', 'backup'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('profile  gyakusatsu  (from flake attribute)')
    expect(run.stdout).toContain(
      "command  cachix watch-exec modular-workspace -- home-manager switch --flake '.#mitsio@gyakusatsu' -b backup",
    )
    expect(s.generation()).toBeUndefined()
  })

  it('--plan with a config file loads no OpenSSL, HTTP or child-process module of Node', async () => {
    const s = sandbox()
    const config = join(s.root, 'config.json')
    writeFileSync(config, JSON.stringify({ cache: 'nas', caches: { nas: { url: 'file:///mnt/nas/nix-cache' } } }))
    // Node's own list of the built-in modules it loaded, written when hms exits (net: stdout is a pipe here).
    const preload = join(s.root, 'modules.mjs')
    const list = join(s.root, 'modules.txt')
    const write = `process.on('exit', () => writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')))`
    writeFileSync(preload, `import { writeFileSync } from 'node:fs'\n${write}\n`)
    for (const round of ['validates the config', 'remembers it was valid']) {
      const env = { HMS_CONFIG: config, NODE_OPTIONS: `--import ${preload}` }
      const run = await s.hms(['--plan', '--flake', '.#mitsio@shoshin'], { env })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(run.stdout, round).toContain('cache    nas')
      const loaded = readFileSync(list, 'utf8').split('\n')
      expect(
        loaded.filter((m) => /^NativeModule (crypto|https?|tls|child_process)$/.test(m)),
        round,
      ).toEqual([])
    }
    const memo = join(s.env.XDG_CACHE_HOME!, 'hms', 'config-validated')
    expect(statSync(memo).mode & 0o777).toBe(0o600)
  })

  it('--plan shows the very cachix push the run executes (generation mode, jobs, compression)', async () => {
    const s = sandbox()
    const args = [
      '--flake',
      '.#mitsio@shoshin',
      '--mode',
      'generation',
      '--push-jobs',
      '3',
      '--compression-method',
      'xz',
    ]
    const plan = await s.hms([...args, '--plan'], { env: { NO_COLOR: '1' } })
    const shown = plan.stdout.split('\n').find((line) => line.startsWith('push '))!
    const log = join(s.root, 'cachix.log')
    expect((await s.hms(args, { env: { CACHIX_STANDIN_LOG: log } })).exitCode).toBe(0)
    const ran = readFileSync(log, 'utf8')
      .split('\n')
      .find((line) => line.startsWith('push\t'))!
      .split('\t')
    expect(ran.at(-1)).toBe(s.generation()!.path)
    expect(shown).toContain(`push     cachix ${ran.slice(0, -1).join(' ')} <the new generation>`)
  })

  it(
    '--plan for a store URL says how the push happens: the hook records, ' + 'nix copy pushes after home-manager',
    async () => {
      const s = sandbox()
      const plan = await s.hms(['--plan', '--flake', '.#mitsio@shoshin', '--cache', `file://${s.root}/c`], {
        env: { NO_COLOR: '1' },
      })
      expect(plan.exitCode, plan.stderr).toBe(0)
      const shown = plan.stdout.split('\n').find((line) => line.startsWith('push '))!
      expect(shown).toMatch(
        /^push {5}nix .*copy .*--to file:\/\/\S+\/c <what the switch builds: hms's post-build hook records it/,
      )
    },
  )

  it('--json: stdout is exactly one JSON document, home-manager output on stderr', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(() => summaryOf(run.stdout)).not.toThrow()
    expect(run.stdout.trim().startsWith('{')).toBe(true)
    expect(run.stderr).toContain('Starting Home Manager activation')
  })

  it('passes home-manager flags through in order with their values', async () => {
    const s = sandbox()
    const argvFile = join(s.root, 'hm-argv')
    const run = await s.hms(
      [
        '--flake',
        '.#mitsio@shoshin',
        '-b',
        'bak',
        '--json',
        '-c',
        'dark',
        '-j',
        '2',
        '-v',
        '--option',
        'cores',
        '1',
        '--show-trace',
        '-n',
      ],
      { env: { HM_STANDIN_ARGV_FILE: argvFile } },
    )
    expect(run.exitCode, run.stderr).toBe(0)
    expect(readFileSync(argvFile, 'utf8').trim().split('\n')).toEqual([
      'switch',
      '--flake',
      '.#mitsio@shoshin',
      '-b',
      'bak',
      '-c',
      'dark',
      '-j',
      '2',
      '-v',
      '--option',
      'cores',
      '1',
      '--show-trace',
      '-n',
    ])
    expect(s.generation()).toBeUndefined()
  })

  it('--plan --json names the hms that wrote it, as every other --json document does', async () => {
    const s = sandbox()
    const run = await s.hms(['--plan', '--json', '--flake', '.#mitsio@shoshin'])
    expect(run.exitCode, run.stderr).toBe(0)
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8'))
    expect(JSON.parse(run.stdout)).toMatchObject({ version, host: 'shoshin', command: expect.any(Array) })
  })

  it.each([
    [['--cache'], /option --cache needs a value/],
    [['--push-jobs', 'x'], /positive whole number/],
    [['-p', 'nope'], /unknown profile "nope".*known profiles: shoshin, gyakusatsu, kinoite/],
    [['swtich'], /did you mean "hms switch"/],
    [['help', 'stauts'], /^hms: no help for "stauts": not an hms command.*did you mean "hms help status"/],
    [['help', 'zzzzzz'], /^hms: no help for "zzzzzz".*commands: switch, push/],
    [['--retries', '-1'], /^hms: option --retries needs a whole number, 0 or more, got "-1"/],
    // home-manager's own option without its value: home-manager would only fail on "missing argument".
    [['--flake', '.#mitsio@shoshin', '-b'], /^hms: -b needs a value \(home-manager's backup extension\)/],
    [['--plan', '-b'], /^hms: -b needs a value/],
  ])('bad input %j: one line, exit 2, nothing run', async (args, message) => {
    const s = sandbox()
    const run = await s.hms(args)
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(s.generation()).toBeUndefined()
  })

  it('a broken config: exit 2 naming file and field', async () => {
    const s = sandbox()
    mkdirSync(join(s.env.XDG_CONFIG_HOME!, 'hms'), { recursive: true })
    writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), '{"push": {"jobs": "eight"}}')
    const run = await s.hms([])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/^hms: invalid config .*hms\/config\.json: push\.jobs: /)
    expect(s.generation()).toBeUndefined()
  })

  it('never prints the token', async () => {
    const s = sandbox()
    for (const args of [['--json', '-v', '--flake', '.#mitsio@shoshin'], ['--plan', '-v', '--json'], ['--cache']]) {
      const run = await s.hms(args)
      expect(run.stdout + run.stderr).not.toContain(SECRET_MARKER)
    }
  })
})
