// Checks of the Nix files (flake.nix, nix/): every .nix file in the repository parses; the package
// evaluates with the real nixpkgs lib; the flake's outputs evaluate (and `nix flake check --no-build`
// passes) with its nixpkgs input pointed at a local stand-in flake. The module itself: nix-hm.test.ts.
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { nixEnv } from './helpers/hm-eval.js'
import { root, useThirdParty } from './helpers/hm-trees.js'

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

const tp = useThirdParty()

async function nixEval<T>(file: string, args: string[] = []): Promise<T> {
  const result = await execa(
    'nix-instantiate',
    ['--eval', '--strict', '--json', '--read-write-mode', join(root, file), ...args],
    {
      reject: false,
      cwd: root,
      env: nixEnv,
    },
  )
  if (result.failed) throw new Error(`nix-instantiate ${file} failed: ${result.stderr || result.message}`)
  return JSON.parse(result.stdout) as T
}

const files = await nixFiles(root)

describe('every .nix file parses', () => {
  it('finds the flake, the module, the package and the fixtures', () => {
    const names = files.map((f) => relative(root, f))
    expect(names).toEqual(
      expect.arrayContaining([
        'flake.nix',
        'nix/module.nix',
        'nix/service.nix',
        'nix/package.nix',
        'nix/npm-lock.nix',
        'nix/tests/hm-eval.nix',
      ]),
    )
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

describe('package (real nixpkgs lib, stand-in buildNpmPackage)', () => {
  interface PackageOutput {
    pname: string
    version: string
    postInstall: string
    meta: { mainProgram: string; platforms: string[] }
    src: string[]
    npmConfigHook: string
    nativeBuildInputs: string[]
    lockPackages: Record<string, { version?: string; resolved?: string; integrity?: string }>
  }
  const evalPackage = (canExecute: boolean) =>
    nixEval<PackageOutput>('nix/tests/eval-package.nix', [
      '--arg',
      'nixpkgs',
      tp().nixpkgs,
      '--arg',
      'canExecute',
      String(canExecute),
    ])

  it(
    "cachix and home-manager come after the user's own on PATH; main program hms; " + 'version from package.json',
    async () => {
      const pkg = await evalPackage(true)
      const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
        name: string
        version: string
      }
      expect([pkg.pname, pkg.version]).toEqual([packageJson.name, packageJson.version])
      expect(pkg.meta.mainProgram).toBe('hms')
      expect(pkg.npmConfigHook).toBe('npm-config-hook')
      expect(pkg.nativeBuildInputs).toContain('make-wrapper')
      expect(pkg.postInstall).toMatch(
        /wrapProgram \$out\/bin\/hms --suffix PATH : \S*-cachix\/bin:\S*-home-manager\/bin\n/,
      )
      expect(pkg.postInstall).toContain('installShellCompletion --cmd hms')
      // lib.fileset.toSource, copied into the store: only what the build reads.
      expect(pkg.src).toEqual(['bin', 'package-lock.json', 'package.json', 'src', 'tsconfig.json', 'tsup.config.ts'])
      const cross = await evalPackage(false)
      expect(cross.postInstall).not.toContain('installShellCompletion')
    },
  )

  it('gives importNpmLock a registry URL for every locked package, matching what npm installed', async () => {
    const { lockPackages } = await evalPackage(true)
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

describe('flake outputs, nixpkgs input overridden with a local stand-in flake', () => {
  const flakeEnv = { ...nixEnv, NIX_CONFIG: `${nixEnv.NIX_CONFIG}experimental-features = nix-command flakes\n` }
  let flake: string
  let stub: string

  beforeAll(async () => {
    // Path flakes: a copy of what the flake reads (a git flake would leave out uncommitted files).
    flake = join(tp().dir, 'flake')
    for (const entry of [
      'flake.nix',
      'nix',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsup.config.ts',
      'bin',
      'src',
    ]) {
      await cp(join(root, entry), join(flake, entry), { recursive: true })
    }
    stub = join(tp().dir, 'stub-nixpkgs')
    await mkdir(stub)
    await cp(join(tp().nixpkgs, 'lib'), join(stub, 'lib'), { recursive: true })
    await cp(join(root, 'nix/tests/stub-pkgs.nix'), join(stub, 'stub-pkgs.nix'))
    await cp(join(root, 'nix/tests/stub-nixpkgs-flake.nix'), join(stub, 'flake.nix'))
  })

  const nix = (args: string[]) =>
    execa('nix', [...args, '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${stub}`], {
      reject: false,
      env: flakeEnv,
    })
  async function flakeEval<T>(attr: string, apply: string): Promise<T> {
    const result = await nix(['eval', '--json', `path:${flake}#${attr}`, '--apply', apply])
    if (result.exitCode !== 0) throw new Error(`nix eval ${attr}: ${result.stderr}`)
    return JSON.parse(result.stdout) as T
  }

  it("nix flake check --no-build passes (the devShell's nodejs is not refused as insecure)", async () => {
    const result = await nix(['flake', 'check', '--no-build', `path:${flake}`])
    expect(result.stderr).not.toContain('error')
    expect(result.exitCode).toBe(0)
  })

  it('the stand-in refuses nodejs_20 as nixpkgs does (the check can fail)', async () => {
    const result = await execa('nix', ['eval', `path:${stub}#legacyPackages.x86_64-linux.nodejs_20.name`], {
      reject: false,
      env: flakeEnv,
    })
    expect(result.stderr).toContain('marked as insecure, refusing to evaluate')
  })

  it(
    'packages for x86_64-linux, aarch64-linux and aarch64-darwin (no x86_64-darwin); ' + 'devShell with current nodejs',
    async () => {
      const packages = await flakeEval<
        Record<string, { attrs: string[]; pname: string; system: string; same: boolean }>
      >(
        'packages',
        'p: builtins.mapAttrs (s: v: { attrs = builtins.attrNames v; inherit (v.default) pname system; ' +
          'same = v.default == v.hms; }) p',
      )
      expect(Object.keys(packages).sort()).toEqual(['aarch64-darwin', 'aarch64-linux', 'x86_64-linux'])
      for (const [system, p] of Object.entries(packages))
        expect(p).toEqual({ attrs: ['default', 'hms'], pname: 'hms', system, same: true })
      const shells = await flakeEval<Record<string, string[]>>(
        'devShells',
        'd: builtins.mapAttrs (s: v: map (p: p.name) v.default.packages) d',
      )
      expect(shells['x86_64-linux']).toEqual(['nodejs-24.11.0', 'cachix', 'home-manager'])
    },
  )

  it("homeModules and homeManagerModules: the module, whose default package is the flake's own", async () => {
    const modules = await flakeEval<string[]>('homeModules', 'm: builtins.attrNames m')
    expect(modules).toEqual(['default', 'hms'])
    expect(await flakeEval<string[]>('homeManagerModules', 'm: builtins.attrNames m')).toEqual(['default', 'hms'])
    const system = await flakeEval<string>(
      'homeModules',
      'm: (m.default { config = { }; lib.mkOption = o: o; pkgs.stdenv.hostPlatform.system = "aarch64-darwin"; ' +
        '}).options.programs.hms.package.default.system',
    )
    expect(system).toBe('aarch64-darwin')
    expect(
      await flakeEval<string>(
        'overlays',
        'o: (o.default { callPackage = f: a: { pname = baseNameOf f; }; } { }).hms.pname',
      ),
    ).toBe('package.nix')
  })
})
