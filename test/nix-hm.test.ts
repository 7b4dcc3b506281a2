// nix/module.nix evaluated inside the real home-manager (master, 25.11, 24.05: lib.homeManagerConfiguration
// or modules/, full module list) with the real nixpkgs lib and a stand-in pkgs (nix/tests/hm-pkgs.nix).
// What it writes is then checked against hms itself: its config loader, its error messages.
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/plan/config.js'
import { build, evalHm, evalHmError } from './helpers/hm-eval.js'
import { root, useThirdParty, type HmVersion } from './helpers/hm-trees.js'

const tp = useThirdParty()
const temps: string[] = []
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hms-nix-hm-'))
  temps.push(dir)
  return dir
}

const hms = (config: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
  programs: { hms: config },
  ...rest,
})
const fakeHms = '/nix/store/00000000000000000000000000000000-hms-0.1.0/bin/hms'

/** hms's own verdict on a config.json text: the message it would exit with, or the loaded config. */
async function hmsLoads(text: string) {
  return parseConfig(text, '/home/alice/.config/hms/config.json')
}
async function hmsRefuses(text: string): Promise<string> {
  const error = await hmsLoads(text).then(
    () => undefined,
    (e: Error) => e,
  )
  expect(error, `hms accepted ${text}`).toBeInstanceOf(Error)
  return error!.message.replace('invalid config /home/alice/.config/hms/config.json: ', '')
}

const fullSettings = {
  $schema: 'https://example.org/hms.schema.json',
  cache: 'my-cache',
  user: 'alice',
  flake: '~/nix-config',
  profiles: { laptops: { hosts: ['thinkpad', 'x1'], cache: 'my-laptops' }, servers: { hosts: ['nas'] } },
  caches: { own: { url: 'https://cache.example.org', secretKeyFile: '/run/secrets/cache-key' } },
  push: {
    jobs: 4,
    compressionMethod: 'zstd',
    strict: false,
    mode: 'generation',
    autoRetry: true,
    retries: 0,
    exclude: ['-doc$', '(?:-man|-info)$'],
  },
  quotaBytes: 10737418240,
}

describe.each(['master', '25.11', '24.05'] as HmVersion[])('home-manager %s', (version) => {
  it('enabled alone: installs hms, writes no config.json, adds no unit, entry or alias', async () => {
    const out = await evalHm(tp(), version, hms({ enable: true }))
    expect(out.packages).toEqual(['hms-0.1.0'])
    expect(out.configJson).toBeNull()
    expect(out.activation).toEqual({})
    expect(out.wantedBy).toEqual([])
    expect(out.aliases).toEqual({ bash: null, zsh: null, fish: null })
    expect(out.warnings).toEqual([])
    expect(out.maintainers).toEqual([
      { file: expect.stringMatching(/\/nix\/module\.nix$/), names: ['hms maintainers'] },
    ])
  })

  it('disabled: nothing at all, whatever else is set', async () => {
    const out = await evalHm(
      tp(),
      version,
      hms({ settings: { cache: 'x' }, pushOnActivation: true, enableBashIntegration: true }),
    )
    expect(out.packages).toEqual([])
    expect(out.configJson).toBeNull()
    expect(out.activation).toEqual({})
    expect(out.aliases.bash).toBeNull()
  })

  it('every setting: config.json has exactly them, and hms loads it', async () => {
    const out = await evalHm(tp(), version, hms({ enable: true, settings: fullSettings }))
    const text = await readFile(out.configJson!, 'utf8')
    expect(JSON.parse(text)).toEqual(fullSettings)
    const loaded = await hmsLoads(text)
    expect(loaded.push).toEqual({ ...fullSettings.push })
    expect(loaded.profiles).toEqual(fullSettings.profiles)
    expect(loaded.quotaBytes).toBe(10737418240)
  })

  it('pushOnActivation: an entry that home-manager runs after linkGeneration', async () => {
    const out = await evalHm(tp(), version, hms({ enable: true, pushOnActivation: true }))
    expect(out.activation.hmsPush!.after).toEqual(['linkGeneration'])
    expect(out.activation.hmsPush!.data).toContain(`${fakeHms} push --background`)
    const order = out.activationOrder
    expect(order.indexOf('hmsPush')).toBeGreaterThan(order.indexOf('linkGeneration'))
    expect(order.indexOf('linkGeneration')).toBeGreaterThan(-1)
  })

  it('the aliases reach bash, zsh and fish, each only when asked for', async () => {
    const shells = { bash: { enable: true }, zsh: { enable: true }, fish: { enable: true } }
    const out = await evalHm(tp(), version, {
      programs: {
        hms: { enable: true, enableBashIntegration: true, enableZshIntegration: true, enableFishIntegration: true },
        ...shells,
      },
    })
    await build([out.files.bashrc, out.files.zshrc, out.files.fishConfig, out.files.alias])
    const alias = out.files.alias!.path
    expect(await readFile(alias, 'utf8')).toContain(`exec ${fakeHms} switch "$@"`)
    expect(await readFile(out.files.bashrc!.path, 'utf8')).toMatch(
      new RegExp(`^alias (-- )?home-manager=${alias}$`, 'm'),
    )
    expect(await readFile(out.files.zshrc!.path, 'utf8')).toMatch(
      new RegExp(`^alias (-- )?home-manager=${alias}$`, 'm'),
    )
    expect(await readFile(out.files.fishConfig!.path, 'utf8')).toMatch(
      new RegExp(`^\\s*alias home-manager ${alias}$`, 'm'),
    )

    const onlyZsh = await evalHm(tp(), version, {
      programs: { hms: { enable: true, enableZshIntegration: true }, ...shells },
    })
    expect(onlyZsh.aliases).toEqual({ bash: null, zsh: alias, fish: null })
  })

  it(
    'services.hms: a path unit on the profile directories and a oneshot service; ' +
      'systemd-analyze verify accepts them',
    async () => {
      const out = await evalHm(tp(), version, hms({ enable: true }, { services: { hms: { enable: true } } }))
      expect(out.wantedBy.sort()).toEqual([
        'systemd/user/default.target.wants/hms-push.path',
        'systemd/user/default.target.wants/hms-push.service',
        'systemd/user/hms-push.path',
        'systemd/user/hms-push.service',
      ])
      await build([out.files.pathUnit, out.files.serviceUnit])
      const pathUnit = await readFile(out.files.pathUnit!.path, 'utf8')
      expect(pathUnit.split('\n').filter((l) => l.startsWith('PathChanged=') || l.startsWith('Unit='))).toEqual([
        'PathChanged=/home/alice/.local/state/nix/profiles',
        'PathChanged=/nix/var/nix/profiles/per-user/alice',
        'Unit=hms-push.service',
      ])
      const service = await readFile(out.files.serviceUnit!.path, 'utf8')
      expect(service).toMatch(/^Type=oneshot$/m)
      const exec = /^ExecStart=(.*)$/m.exec(service)![1]!
      expect(await readFile(exec, 'utf8')).toContain(`${fakeHms} push --pending`)
      await verifyUnits([out.files.pathUnit!.path, out.files.serviceUnit!.path])
    },
  )
})

/** `systemd-analyze verify --user` on the unit files (it also checks that ExecStart exists). */
async function verifyUnits(files: string[]): Promise<void> {
  const dir = await tempDir()
  const runtime = join(dir, 'runtime')
  await mkdir(runtime, { mode: 0o700 })
  const copies: string[] = []
  for (const file of files) {
    const copy = join(dir, file.slice(file.lastIndexOf('/') + 1))
    await copyFile(file, copy)
    copies.push(copy)
  }
  const result = await execa('systemd-analyze', ['verify', '--man=no', '--user', ...copies], {
    reject: false,
    env: { ...process.env, XDG_RUNTIME_DIR: runtime },
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
}

describe('option documentation', () => {
  it("renders (lib.optionAttrSetToDocList, as home-manager's manual) and docs/nix.md names every option", async () => {
    const out = await evalHm(tp(), 'master', hms({ enable: true }))
    const names = out.options.map((o) => o.name.replace('"\\$schema"', '$schema'))
    expect(names.length).toBeGreaterThan(25)
    expect(out.options.every((o) => o.description.length > 10)).toBe(true)
    expect(out.options.find((o) => o.name === 'programs.hms.settings.push.jobs')?.description).toContain(
      'A positive integer up to 2^53 - 1',
    )
    const docs = await readFile(join(root, 'docs/nix.md'), 'utf8')
    expect(names.filter((n) => !docs.includes(`\`${n}\``))).toEqual([])
  })
})

describe('systemd-analyze verify (the check can fail)', () => {
  it('refuses a unit whose ExecStart does not exist', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'x.service'), '[Service]\nType=oneshot\nExecStart=/nix/store/nothing-here/bin/hms\n')
    const runtime = join(dir, 'runtime')
    await mkdir(runtime, { mode: 0o700 })
    const result = await execa('systemd-analyze', ['verify', '--man=no', '--user', join(dir, 'x.service')], {
      reject: false,
      env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    })
    expect(result.exitCode).not.toBe(0)
  })
})

describe('values hms refuses are refused at evaluation time, in hms words', () => {
  // Raw JSON: 9007199254740993 must reach Nix as written (JavaScript would round it).
  const cases: [string, string][] = [
    ['{"push":{"exclude":["*-doc"]}}', 'push.exclude.0: not a valid regular expression'],
    ['{"push":{"exclude":["-doc$","(?<n>a)\\\\k<m>"]}}', 'push.exclude.1: not a valid regular expression'],
    ['{"push":{"exclude":["caf\u00e9"]}}', 'push.exclude.0: use printable ASCII (write other characters as \\uXXXX)'],
    ['{"quotaBytes":9007199254740993}', 'quotaBytes: Too big: expected int to be <=9007199254740991'],
    ['{"quotaBytes":0}', 'quotaBytes: Too small: expected number to be >0'],
    ['{"push":{"jobs":0}}', 'push.jobs: Too small: expected number to be >0'],
    ['{"push":{"retries":-1}}', 'push.retries: Too small: expected number to be >=0'],
    ['{"cache":""}', 'cache: Too small: expected string to have >=1 characters'],
    ['{"profiles":{"p":{"hosts":[""]}}}', 'profiles.p.hosts.0: Too small: expected string to have >=1 characters'],
    ['{"profiles":{"":{}}}', 'profiles.: Invalid key in record'],
    ['{"caches":{"own":{}}}', 'caches.own.url: Invalid input: expected string, received undefined'],
    ['{"pushes":{}}', 'unknown key "pushes"'],
    ['{"push":{"job":2}}', 'unknown key "push.job"'],
    [
      '{"caches":{"own":{"url":"file://relative/dir"}}}',
      'caches.own.url "file://relative/dir" is not an absolute file:// URL',
    ],
    ['{"caches":{"nas":{"url":"ssh-ng://"}}}', 'caches.nas.url "ssh-ng://" has no host'],
    [
      '{"profiles":{"p":{"cache":"s3://?region=eu-west-1"}}}',
      'profiles.p.cache "s3://?region=eu-west-1" has no bucket',
    ],
    ['{"cache":"https://u:pw@/nix"}', 'cache "https:///nix" has no host'],
  ]

  it.each(cases)('%s', async (settings, message) => {
    expect(await hmsRefuses(settings)).toBe(message)
    const stderr = await evalHmError(tp(), 'master', `{"programs":{"hms":{"enable":true,"settings":${settings}}}}`)
    expect(stderr).toContain('programs.hms.settings: hms would refuse this config.json:')
    expect(stderr.split('\n').map((l) => l.trim())).toContain(message)
  })

  it('the values just inside every bound pass both', async () => {
    const settings = {
      quotaBytes: 9007199254740991,
      push: { jobs: 1, retries: 0, exclude: ['(?<n>a)\\k<n>', '[\\d-z]', 'a{2,}?'] },
    }
    await hmsLoads(JSON.stringify(settings))
    const out = await evalHm(tp(), 'master', hms({ enable: true, settings }))
    expect(JSON.parse(await readFile(out.configJson!, 'utf8'))).toEqual(settings)
  })

  it('a wrong JSON type or an unknown enum value is a type error of the option', async () => {
    expect(
      await evalHmError(tp(), 'master', hms({ enable: true, settings: { push: { compressionMethod: 'gzip' } } })),
    ).toMatch(/programs\.hms\.settings\.push\.compressionMethod' is not of type `null or one of "xz", "zstd"'/)
    expect(await evalHmError(tp(), 'master', hms({ enable: true, settings: { push: { jobs: '2' } } }))).toContain(
      "programs.hms.settings.push.jobs' is not of type `null or signed integer'",
    )
  })

  it('a password in a cache URL is refused (config.json would be world-readable), and not repeated', async () => {
    const url = 'https://alice:s3cret@cache.example.org/nix'
    await hmsLoads(JSON.stringify({ caches: { own: { url } } }))
    const stderr = await evalHmError(tp(), 'master', hms({ enable: true, settings: { caches: { own: { url } } } }))
    expect(stderr).toContain('programs.hms.settings.caches.own.url carries a password')
    expect(stderr).toContain('write https://cache.example.org/nix and put the credentials in the netrc file Nix reads')
    expect(stderr).not.toContain('s3cret')
    // An ssh user name is no secret.
    await evalHm(tp(), 'master', hms({ enable: true, settings: { caches: { nas: { url: 'ssh-ng://builder@nas' } } } }))
  })

  it('a signing key in the Nix store is refused', async () => {
    const stderr = await evalHmError(
      tp(),
      'master',
      hms({
        enable: true,
        settings: { caches: { c: { url: 'https://c.example.org', secretKeyFile: '/nix/store/abc-key' } } },
      }),
    )
    expect(stderr).toContain('programs.hms.settings.caches.c.secretKeyFile is in the Nix store')
  })
})

describe('platforms, package = null, old option names', () => {
  it('services.hms is Linux only; the rest evaluates on macOS', async () => {
    const darwin = await evalHm(tp(), 'master', hms({ enable: true, pushOnActivation: true }), {
      system: 'aarch64-darwin',
    })
    expect(darwin.activation.hmsPush).toBeDefined()
    const stderr = await evalHmError(tp(), 'master', hms({ enable: true }, { services: { hms: { enable: true } } }), {
      system: 'aarch64-darwin',
    })
    expect(stderr).toContain('The module services.hms does not support your platform')
  })

  it('package = null: nothing installed, config still written; features that run hms say they need it', async () => {
    const out = await evalHm(tp(), 'master', hms({ enable: true, package: null, settings: { cache: 'c' } }))
    expect(out.packages).toEqual([])
    expect(JSON.parse(await readFile(out.configJson!, 'utf8'))).toEqual({ cache: 'c' })
    expect(await evalHmError(tp(), 'master', hms({ enable: true, package: null, pushOnActivation: true }))).toContain(
      'programs.hms.package is null, but pushOnActivation and the shell integrations run hms.',
    )
    expect(
      await evalHmError(tp(), 'master', hms({ enable: true, package: null }, { services: { hms: { enable: true } } })),
    ).toContain('services.hms.package is null (it follows programs.hms.package)')
  })

  it('the old names keep working with a warning, or say what replaced them', async () => {
    const renamed = await evalHm(
      tp(),
      'master',
      hms({ enable: true, autoPush: { systemd: { enable: true }, activation: { enable: true } } }),
    )
    expect(renamed.wantedBy).toContain('systemd/user/hms-push.path')
    expect(renamed.activation.hmsPush).toBeDefined()
    expect(await evalHmError(tp(), 'master', hms({ enable: true, shellAliases: true }))).toContain(
      'Use programs.hms.enableBashIntegration, enableZshIntegration and enableFishIntegration.',
    )
  })
})

describe('the scripts the module writes, run', () => {
  /** A bin/hms that logs its arguments; `behaviour` runs after. */
  async function fakePackage(behaviour = ''): Promise<string> {
    const dir = await tempDir()
    await mkdir(join(dir, 'bin'))
    await writeFile(join(dir, 'bin', 'hms'), `#!/bin/bash\necho "$*" >> "${dir}/calls"\n${behaviour}\n`)
    await chmod(join(dir, 'bin', 'hms'), 0o755)
    return dir
  }
  const calls = async (dir: string) =>
    existsSync(join(dir, 'calls')) ? (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n') : []

  async function serviceScript(hmsPath: string, home: string): Promise<string> {
    const services = { hms: { enable: true, profileDirectories: [join(home, 'profiles'), join(home, 'legacy')] } }
    const out = await evalHm(tp(), 'master', hms({ enable: true }, { services }), { hmsPath })
    await build([out.files.serviceUnit])
    return /^ExecStart=(.*)$/m.exec(await readFile(out.files.serviceUnit!.path, 'utf8'))![1]!
  }

  async function generation(home: string, name: string): Promise<string> {
    const dir = join(home, 'store', name)
    await mkdir(dir, { recursive: true })
    return dir
  }
  async function activate(home: string, target: string): Promise<void> {
    await mkdir(join(home, 'profiles'), { recursive: true })
    await rm(join(home, 'profiles', 'home-manager.tmp'), { force: true })
    await symlink(target, join(home, 'profiles', 'home-manager.tmp'))
    await execa('mv', ['-T', join(home, 'profiles', 'home-manager.tmp'), join(home, 'profiles', 'home-manager')])
  }

  it('hms-push.service: pending first, then each new generation once; twice in a row pushes nothing new', async () => {
    const home = await tempDir()
    const pkg = await fakePackage()
    const script = await serviceScript(pkg, home)
    const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH }
    const gen1 = await generation(home, 'gen-1')
    await activate(home, gen1)
    await execa(script, [], { env })
    await execa(script, [], { env })
    expect(await calls(pkg)).toEqual(['push --pending', `push ${gen1}`, 'push --pending'])
  })

  it('hms-push.service: a generation activated during the push is pushed in the same run', async () => {
    const home = await tempDir()
    const gen2 = join(home, 'store', 'gen-2')
    // While pushing gen-1, "activate" gen-2 the way nix-env does: a new link renamed over the old.
    const pkg = await fakePackage(
      `if [ "$2" = "${join(home, 'store', 'gen-1')}" ]; then ln -s ${gen2} ${home}/profiles/hm.tmp && mv -T ` +
        `${home}/profiles/hm.tmp ${home}/profiles/home-manager; fi`,
    )
    const script = await serviceScript(pkg, home)
    await activate(home, await generation(home, 'gen-1'))
    await generation(home, 'gen-2')
    await execa(script, [], { env: { HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH } })
    expect(await calls(pkg)).toEqual(['push --pending', `push ${join(home, 'store', 'gen-1')}`, `push ${gen2}`])
  })

  it('hms-push.service: a failed push fails the unit and is retried by the next run', async () => {
    const home = await tempDir()
    const pkg = await fakePackage(`[ "$1" = push ] && [ "$2" != --pending ] && [ ! -e ${home}/ok ] && exit 1; exit 0`)
    const script = await serviceScript(pkg, home)
    const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH }
    const gen1 = await generation(home, 'gen-1')
    await activate(home, gen1)
    expect((await execa(script, [], { env, reject: false })).exitCode).toBe(1)
    await writeFile(join(home, 'ok'), '')
    expect((await execa(script, [], { env, reject: false })).exitCode).toBe(0)
    expect(await calls(pkg)).toEqual(['push --pending', `push ${gen1}`, 'push --pending', `push ${gen1}`])
  })

  it('hms-push.service: no home-manager profile yet is no error; the legacy directory counts too', async () => {
    const home = await tempDir()
    const pkg = await fakePackage()
    const script = await serviceScript(pkg, home)
    const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH }
    expect((await execa(script, [], { env, reject: false })).exitCode).toBe(0)
    const gen = await generation(home, 'gen-legacy')
    await mkdir(join(home, 'legacy'))
    await symlink(gen, join(home, 'legacy', 'home-manager'))
    await execa(script, [], { env })
    expect(await calls(pkg)).toEqual(['push --pending', 'push --pending', `push ${gen}`])
  })

  it('the alias sends switch to hms and everything else to home-manager', async () => {
    const pkg = await fakePackage()
    const out = await evalHm(
      tp(),
      'master',
      { programs: { hms: { enable: true, enableBashIntegration: true }, bash: { enable: true } } },
      { hmsPath: pkg },
    )
    await build([out.files.alias])
    const bin = await tempDir()
    await writeFile(join(bin, 'home-manager'), `#!/bin/bash\necho "home-manager $*" >> "${pkg}/calls"\n`)
    await chmod(join(bin, 'home-manager'), 0o755)
    const env = { PATH: `${bin}:${process.env.PATH}` }
    await execa(out.files.alias!.path, ['switch', '-b', 'backup'], { env })
    await execa(out.files.alias!.path, ['generations'], { env })
    expect(await calls(pkg)).toEqual(['switch -b backup', 'home-manager generations'])
  })

  it(
    'the activation entry returns at once and succeeds even when hms hangs and fails; ' + 'a dry run only prints',
    async () => {
      const pkg = await fakePackage('exec sleep 5')
      const out = await evalHm(tp(), 'master', hms({ enable: true, pushOnActivation: true }), { hmsPath: pkg })
      const harness = (entry: string) =>
        [
          'set -eu -o pipefail',
          'run() { if [[ -v DRY_RUN ]]; then echo "$@"; else "$@"; fi; }',
          'declare -r newGenPath=/nix/store/11111111111111111111111111111111-home-manager-generation',
          entry,
          'echo activation-finished',
        ].join('\n')
      const started = Date.now()
      const result = await execa('bash', ['-c', harness(out.activation.hmsPush!.data)], {
        reject: false,
        timeout: 10_000,
      })
      expect(result.stdout).toBe('activation-finished')
      expect(result.exitCode).toBe(0)
      expect(Date.now() - started).toBeLessThan(3000)
      const dry = await execa('bash', ['-c', harness(out.activation.hmsPush!.data)], {
        env: { DRY_RUN: '1' },
        reject: false,
      })
      expect(dry.stdout).toBe(
        `${pkg}/bin/hms push --background ` +
          `/nix/store/11111111111111111111111111111111-home-manager-generation\nactivation-finished`,
      )
    },
  )
})
