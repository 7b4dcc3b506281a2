// Checks of the Nix files (flake.nix, nix/): every .nix file in the repository
// parses, and the home-manager module, the package and the flake outputs
// evaluate with the stand-in lib in nix/tests/ (no nixpkgs here). See docs/nix.md.
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cacheSchema, configSchema, profileSchema, pushSchema } from '../src/schema.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const skipped = new Set(['node_modules', '.git', 'dist', 'coverage', '.tmp'])

async function nixFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...(await nixFiles(path)))
    else if (entry.isFile() && entry.name.endsWith('.nix')) found.push(path)
  }
  return found.sort()
}

async function nixEval<T>(file: string, args: string[] = []): Promise<T> {
  const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', join(root, file), ...args], { reject: false, cwd: root })
  if (result.failed) throw new Error(`nix-instantiate ${file} failed: ${result.stderr || result.message}`)
  return JSON.parse(result.stdout) as T
}

interface DagEntry { after: string[]; before: string[]; data: string }
interface ModuleOutput {
  configJson: string | null
  activation: Record<string, DagEntry>
  systemd: {
    paths?: Record<string, { Unit: Record<string, unknown>; Path: Record<string, string>; Install: { WantedBy: string[] } }>
    services?: Record<string, { Unit: Record<string, unknown>; Service: { Type: string; ExecStart: string[]; Environment: string[] } }>
  }
  shellAliases: Record<string, string>
  packages: string[]
  failedAssertions: string[]
  warnings: string[]
  optionPaths: string[]
  topLevel: string[]
}

const fakePackage = '/nix/store/00000000000000000000000000000000-hms-0.1.0'
const hmsExe = `${fakePackage}/bin/hms`

/** `writeStore`: let the stand-in pkgs.writeShellScript (builtins.toFile) really write its file. */
function evalModule(definitions: unknown, opts: { isLinux?: boolean; packagePath?: string; writeStore?: boolean } = {}): Promise<ModuleOutput> {
  const args = ['--argstr', 'definitions', JSON.stringify(definitions)]
  if (opts.writeStore) args.push('--read-write-mode')
  if (opts.isLinux === false) args.push('--arg', 'isLinux', 'false')
  if (opts.packagePath) args.push('--argstr', 'packagePath', opts.packagePath)
  return nixEval<ModuleOutput>('nix/tests/eval-module.nix', args)
}

async function evalModuleError(definitions: unknown): Promise<string> {
  const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', join(root, 'nix/tests/eval-module.nix'), '--argstr', 'definitions', JSON.stringify(definitions)], { reject: false })
  expect(result.exitCode, 'the evaluation should have failed').not.toBe(0)
  return result.stderr
}

const temps: string[] = []
const strayPids: number[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hms-nix-test-'))
  temps.push(dir)
  return dir
}
afterAll(async () => {
  for (const pid of strayPids) {
    try {
      process.kill(pid)
    } catch {
      // already gone
    }
  }
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A directory with bin/hms (and bin/home-manager) that log their arguments. */
async function fakeBin(behaviour = ''): Promise<string> {
  const dir = await tempDir()
  await mkdir(join(dir, 'bin'))
  for (const name of ['hms', 'home-manager']) {
    const script = `#!/usr/bin/env bash\necho "${name} $*" >> "${dir}/calls.tmp" && mv "${dir}/calls.tmp" "${dir}/calls"\necho "$$" > "${dir}/pid"\n${name === 'hms' ? behaviour : ''}\n`
    await writeFile(join(dir, 'bin', name), script)
    await chmod(join(dir, 'bin', name), 0o755)
  }
  return dir
}

async function waitForFile(path: string, ms = 3000): Promise<string | undefined> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
    if (existsSync(path)) return readFile(path, 'utf8')
  }
  return undefined
}

/** home-manager's activation environment, reduced to what the entry uses: strict bash and `run`. */
function activationHarness(entry: string, newGenPath: string | undefined): string {
  return [
    'set -eu -o pipefail',
    'run() { if [[ $1 == --quiet || $1 == --silence ]]; then shift; fi; if [[ -v DRY_RUN ]]; then echo "$@"; else "$@"; fi; }',
    newGenPath ? `declare -r newGenPath=${newGenPath}` : '',
    entry,
    'echo activation-finished',
  ].join('\n')
}

const files = await nixFiles(root)

describe('every .nix file parses', () => {
  it('finds the flake, the module, the package and the fixtures', () => {
    const names = files.map((f) => relative(root, f))
    expect(names).toEqual(expect.arrayContaining(['flake.nix', 'nix/module.nix', 'nix/package.nix', 'nix/npm-lock.nix', 'nix/tests/stub-lib.nix']))
    expect(names.some((n) => n.startsWith('node_modules'))).toBe(false)
  })

  it('nix-instantiate --parse rejects a broken expression (the check can fail)', async () => {
    const result = await execa('nix-instantiate', ['--parse', '-E', '{ a = ; }'], { reject: false })
    expect(result.exitCode).not.toBe(0)
  })

  it.each(files.map((f) => [relative(root, f), f]))('%s', async (_name, file) => {
    const result = await execa('nix-instantiate', ['--parse', file], { reject: false })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  })
})

describe('home-manager module (stand-in lib)', () => {
  it('does nothing unless enabled', async () => {
    const out = await evalModule({ settings: { cache: 'x' }, autoPush: { activation: { enable: true }, systemd: { enable: true } } })
    expect(out.topLevel).toEqual([])
  })

  it('enabled alone: installs hms, writes no config.json, pushes nothing on its own', async () => {
    const out = await evalModule({ enable: true })
    expect(out.packages).toEqual([fakePackage])
    expect(out.configJson).toBeNull()
    expect(out.activation).toEqual({})
    expect(out.systemd).toEqual({})
    expect(out.shellAliases).toEqual({})
    expect(out.failedAssertions).toEqual([])
    expect(out.warnings).toEqual([])
  })

  it('writes settings as config.json without nulls, and hms accepts it', async () => {
    const out = await evalModule({
      enable: true,
      settings: {
        cache: 'my-cache',
        flake: '~/nix-config',
        profiles: { laptop: { hosts: ['thinkpad', 'x1'] }, work: { cache: 'work-cache' }, bare: {} },
        push: { jobs: 4, compressionMethod: 'zstd', strict: false, exclude: [] },
      },
    })
    const expected = {
      cache: 'my-cache',
      flake: '~/nix-config',
      profiles: { bare: {}, laptop: { hosts: ['thinkpad', 'x1'] }, work: { cache: 'work-cache' } },
      push: { jobs: 4, compressionMethod: 'zstd', strict: false, exclude: [] },
    }
    expect(JSON.parse(out.configJson!)).toEqual(expected)
    expect(configSchema.parse(JSON.parse(out.configJson!))).toEqual(expected)
  })

  it('every settings option set: the file still passes the strict schema', async () => {
    const settings = {
      cache: 'c',
      user: 'alice',
      flake: '/etc/nixos',
      profiles: { p: { hosts: ['h'], cache: 'c2' } },
      caches: { own: { url: 'https://cache.example.org', secretKeyFile: '/run/secrets/cache-key' } },
      push: { jobs: 2, compressionMethod: 'xz', strict: true, mode: 'generation', autoRetry: false, retries: 0, exclude: ['-doc$'] },
      quotaBytes: 10737418240,
    }
    const out = await evalModule({ enable: true, settings })
    expect(configSchema.parse(JSON.parse(out.configJson!))).toEqual(settings)
  })

  it('mirrors the config schema: same keys at every level', async () => {
    const { optionPaths } = await evalModule({})
    const under = (prefix: string) =>
      optionPaths.filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('.')).map((p) => p.slice(prefix.length)).sort()
    expect(under('programs.hms.settings.')).toEqual(Object.keys(configSchema.shape).filter((k) => k !== '$schema').sort())
    expect(under('programs.hms.settings.push.')).toEqual(Object.keys(pushSchema.shape).sort())
    expect(under('programs.hms.settings.profiles.<name>.')).toEqual(Object.keys(profileSchema.shape).sort())
    expect(under('programs.hms.settings.caches.<name>.')).toEqual(Object.keys(cacheSchema.shape).sort())
  })

  it('rejects what the schema rejects: bad enum, unknown key, missing cache url, zero jobs', async () => {
    expect(await evalModuleError({ enable: true, settings: { push: { compressionMethod: 'gzip' } } })).toContain('compressionMethod')
    expect(await evalModuleError({ enable: true, settings: { push: { mode: 'always' } } })).toContain('push.mode')
    expect(await evalModuleError({ enable: true, settings: { pushes: {} } })).toContain('does not exist')
    expect(await evalModuleError({ enable: true, settings: { caches: { own: {} } } })).toContain('caches.own.url')
    expect(await evalModuleError({ enable: true, settings: { push: { jobs: 0 } } })).toContain('push.jobs')
    expect(await evalModuleError({ enable: true, settings: { cache: '' } })).toContain('settings.cache')
  })

  it('activation push: an entry after linkGeneration running hms push --background', async () => {
    const out = await evalModule({ enable: true, autoPush: { activation: { enable: true } } })
    expect(Object.keys(out.activation)).toEqual(['hmsAutoPush'])
    const entry = out.activation.hmsAutoPush!
    expect(entry.after).toEqual(['linkGeneration'])
    expect(entry.data).toContain(`${hmsExe} push --background`)
    expect(out.systemd).toEqual({})
  })

  it('activation push never fails and never waits, even when hms hangs and fails', async () => {
    const fake = await fakeBin('exec sleep 5; exit 1')
    const out = await evalModule({ enable: true, autoPush: { activation: { enable: true } } }, { packagePath: fake })
    const generation = '/nix/store/11111111111111111111111111111111-home-manager-generation'
    const started = Date.now()
    const result = await execa('bash', ['-c', activationHarness(out.activation.hmsAutoPush!.data, generation)], { reject: false, timeout: 10_000 })
    const elapsed = Date.now() - started
    const pid = await waitForFile(join(fake, 'pid')) // the fake hms, still sleeping: ended in afterAll
    if (pid) strayPids.push(Number(pid.trim()))
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe('activation-finished')
    expect(elapsed).toBeLessThan(2000)
    expect(await waitForFile(join(fake, 'calls'))).toBe(`hms push --background ${generation}\n`)
  })

  it('activation push: a dry run prints the command and runs nothing; a missing hms is no error', async () => {
    const fake = await fakeBin()
    const out = await evalModule({ enable: true, autoPush: { activation: { enable: true } } }, { packagePath: fake })
    const script = activationHarness(out.activation.hmsAutoPush!.data, '/nix/store/2222-gen')
    const dry = await execa('bash', ['-c', script], { env: { DRY_RUN: '1' }, reject: false })
    expect(dry.exitCode).toBe(0)
    expect(dry.stdout).toBe(`${fake}/bin/hms push --background /nix/store/2222-gen\nactivation-finished`)
    expect(existsSync(join(fake, 'calls'))).toBe(false)

    const missing = await evalModule({ enable: true, autoPush: { activation: { enable: true } } }, { packagePath: join(fake, 'nowhere') })
    const noGen = await execa('bash', ['-c', activationHarness(missing.activation.hmsAutoPush!.data, undefined)], { reject: false })
    expect(noGen.exitCode).toBe(0)
    expect(noGen.stdout).toBe('activation-finished')
  })

  it('systemd push: a path unit on the home-manager profile and a oneshot service', async () => {
    const out = await evalModule({ enable: true, autoPush: { systemd: { enable: true } } })
    expect(out.activation).toEqual({})
    const path = out.systemd.paths?.['hms-push']
    expect(path?.Path).toEqual({ PathChanged: '/home/alice/.local/state/nix/profiles/home-manager', Unit: 'hms-push.service' })
    expect(path?.Install.WantedBy).toEqual(['default.target'])
    const service = out.systemd.services?.['hms-push']
    expect(service?.Service.Type).toBe('oneshot')
    expect(service?.Service.ExecStart).toEqual([`-${hmsExe} push --pending`, `${hmsExe} push`])
    expect(service?.Service.Environment[0]).toMatch(/^PATH=\/home\/alice\/\.nix-profile\/bin:/)
    expect(out.failedAssertions).toEqual([])

    const legacy = await evalModule({ enable: true, autoPush: { systemd: { enable: true, profilePath: '/nix/var/nix/profiles/per-user/alice/home-manager' } } })
    expect(legacy.systemd.paths?.['hms-push']?.Path.PathChanged).toBe('/nix/var/nix/profiles/per-user/alice/home-manager')
  })

  it('assertions and warnings: systemd off Linux, a key in the store, both push variants', async () => {
    const darwin = await evalModule({ enable: true, autoPush: { systemd: { enable: true } } }, { isLinux: false })
    expect(darwin.failedAssertions).toEqual([expect.stringContaining('Linux only')])
    const storeKey = await evalModule({ enable: true, settings: { caches: { c: { url: 'https://c', secretKeyFile: '/nix/store/abc-key' } } } })
    expect(storeKey.failedAssertions).toEqual([expect.stringContaining('caches.c.secretKeyFile')])
    const both = await evalModule({ enable: true, autoPush: { activation: { enable: true }, systemd: { enable: true } } })
    expect(both.warnings).toEqual([expect.stringContaining('pushed twice')])
  })

  it('shellAliases: `home-manager switch …` goes to hms, everything else to home-manager', async () => {
    const fake = await fakeBin()
    const off = await evalModule({ enable: true }, { packagePath: fake })
    expect(off.shellAliases).toEqual({})
    const out = await evalModule({ enable: true, shellAliases: true }, { packagePath: fake, writeStore: true })
    const alias = out.shellAliases['home-manager']!
    expect(alias).toMatch(/^\/nix\/store\/.*-hms-home-manager-alias$/)
    const env = { PATH: `${fake}/bin:${process.env.PATH}` }
    await execa('bash', [alias, 'switch', '-b', 'backup'], { env })
    expect(await readFile(join(fake, 'calls'), 'utf8')).toBe('hms switch -b backup\n')
    await execa('bash', [alias, 'generations'], { env })
    expect(await readFile(join(fake, 'calls'), 'utf8')).toBe('home-manager generations\n')
  })

  it('docs/nix.md describes every option', async () => {
    const { optionPaths } = await evalModule({})
    const docs = await readFile(join(root, 'docs/nix.md'), 'utf8')
    expect(optionPaths.length).toBeGreaterThan(20)
    expect(optionPaths.filter((p) => !docs.includes(`\`${p}\``))).toEqual([])
  })
})

describe('package (stand-in buildNpmPackage)', () => {
  interface PackageOutput {
    pname: string
    version: string
    postInstall: string
    meta: { mainProgram: string }
    src: string[]
    npmConfigHook: string
    nativeBuildInputs: string[]
    lockPackages: Record<string, { version?: string; resolved?: string; integrity?: string }>
  }

  it('wraps hms with cachix and home-manager on PATH; main program hms; version from package.json', async () => {
    const pkg = await nixEval<PackageOutput>('nix/tests/eval-package.nix', ['--arg', 'canExecute', 'true'])
    const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string }
    expect([pkg.pname, pkg.version]).toEqual([packageJson.name, packageJson.version])
    expect(pkg.meta.mainProgram).toBe('hms')
    expect(pkg.npmConfigHook).toBe('npm-config-hook')
    expect(pkg.nativeBuildInputs).toContain('make-wrapper')
    expect(pkg.postInstall).toMatch(/wrapProgram \$out\/bin\/hms --prefix PATH : '[^']*-cachix\/bin:[^']*-home-manager\/bin'/)
    expect(pkg.postInstall).toContain('installShellCompletion --cmd hms')
    expect(pkg.src).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin']))
    const cross = await nixEval<PackageOutput>('nix/tests/eval-package.nix', ['--arg', 'canExecute', 'false'])
    expect(cross.postInstall).not.toContain('installShellCompletion')
  })

  it('gives importNpmLock a registry URL for every locked package, matching what npm installed', async () => {
    const { lockPackages } = await nixEval<PackageOutput>('nix/tests/eval-package.nix', ['--arg', 'canExecute', 'true'])
    let compared = 0
    for (const [key, entry] of Object.entries(lockPackages)) {
      if (key === '') continue
      expect(entry.resolved, key).toMatch(/^https:\/\/registry\.npmjs\.org\/(@[^/]+\/)?[^/@]+\/-\/[^/]+\.tgz$/)
      expect(entry.integrity, key).toBeTruthy()
      const installed = join(root, key, 'package.json')
      if (!existsSync(installed)) continue // another platform's optional package
      const { name, version } = JSON.parse(await readFile(installed, 'utf8')) as { name: string; version: string }
      expect(entry.resolved, key).toBe(`https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`)
      compared++
    }
    expect(compared).toBeGreaterThan(50)
  })
})

describe('flake outputs (called with a stand-in nixpkgs)', () => {
  it('exposes packages, overlay and the home-manager module for four systems', async () => {
    const flake = await nixEval<{
      inputs: string[]
      outputs: string[]
      systems: string[]
      packages: Record<string, { attrs: string[]; default: { pname: string; system: string; mainProgram: string }; same: boolean }>
      homeModules: string[]
      homeManagerModules: string[]
      overlay: string
      modulePackage: Record<string, string>
    }>('nix/tests/eval-flake.nix')
    expect(flake.inputs).toEqual(['nixpkgs'])
    expect(flake.outputs).toEqual(expect.arrayContaining(['packages', 'homeManagerModules', 'homeModules', 'overlays']))
    expect(flake.systems).toEqual(['aarch64-darwin', 'aarch64-linux', 'x86_64-darwin', 'x86_64-linux'])
    for (const system of flake.systems) {
      expect(flake.packages[system]).toEqual({ attrs: ['default', 'hms'], default: { pname: 'hms', system, mainProgram: 'hms' }, same: true })
      expect(flake.modulePackage[system]).toBe(system)
    }
    expect(flake.homeModules).toEqual(['default', 'hms'])
    expect(flake.homeManagerModules).toEqual(['default', 'hms'])
    expect(flake.overlay).toBe('hms')
  })
})
