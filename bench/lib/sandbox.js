// A throwaway world for the benchmark, as test/helpers/sandbox.ts builds one for the tests: temp
// HOME and XDG dirs, a salted copy of the fixture flake (fresh store paths), the cachix and
// home-manager stand-ins first on PATH, file:// caches, NIX_CONFIG without substituters.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
export const FIXTURES_BIN = path.join(REPO, 'test/fixtures/bin')
export const FIXTURE_FLAKE = path.join(REPO, 'test/fixtures/home')
export const HMS_BIN = path.join(REPO, 'bin/hms.js')

/** The first directory on PATH (other than the stand-ins') that holds `program`. */
export function dirOf(program, fallback = '/usr/bin') {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && dir !== FIXTURES_BIN && fs.existsSync(path.join(dir, program))) return dir
  }
  return fallback
}

export function removeTree(dir) {
  // Nix leaves read-only directories behind.
  try {
    execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' })
  } catch {}
  fs.rmSync(dir, { recursive: true, force: true })
}

/**
 * @param {string} parent directory to create the sandbox in
 * @param {{ binFirst?: string[], salt?: string }} [options] extra PATH directories before the stand-ins
 */
export function makeSandbox(parent, options = {}) {
  const root = fs.mkdtempSync(path.join(parent, 'sbx-'))
  // Nix's builders run as nixbld users and get their build dirs under TMPDIR.
  fs.chmodSync(root, 0o755)
  const home = path.join(root, 'home')
  const flakeDir = path.join(root, 'flake')
  const cacheRoot = path.join(root, 'caches')
  const tmp = path.join(root, 'tmp')
  const env = {
    PATH: [
      ...new Set([
        ...(options.binFirst ?? []),
        FIXTURES_BIN,
        dirOf('nix-build'),
        '/usr/local/bin',
        '/usr/bin',
        '/bin',
        path.dirname(process.execPath),
      ]),
    ].join(':'),
    HOME: home,
    USER: 'mitsio',
    LOGNAME: 'mitsio',
    LANG: 'C.UTF-8',
    TMPDIR: tmp,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    NIX_CONFIG: 'substituters =\n',
    CACHIX_STANDIN_ROOT: cacheRoot,
    CACHIX_AUTH_TOKEN: 'hms-bench-token',
    CI: 'true',
    NO_COLOR: '1',
  }
  for (const dir of [home, cacheRoot, tmp, env.XDG_CONFIG_HOME, env.XDG_STATE_HOME, env.XDG_CACHE_HOME])
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
  fs.chmodSync(tmp, 0o1777)
  fs.cpSync(FIXTURE_FLAKE, flakeDir, { recursive: true })
  const packagesFile = path.join(flakeDir, 'packages.json')
  const readPackages = () => JSON.parse(fs.readFileSync(packagesFile, 'utf8'))
  const writePackages = (data) => fs.writeFileSync(packagesFile, `${JSON.stringify(data, null, 2)}\n`)
  const salt =
    options.salt ?? `bench-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  writePackages({ ...readPackages(), salt })

  return {
    root,
    home,
    flakeDir,
    cacheRoot,
    env,
    cacheDir(name) {
      const dir = path.join(cacheRoot, name)
      fs.mkdirSync(dir, { recursive: true })
      return dir
    },
    setPackage(name, version) {
      const data = readPackages()
      writePackages({ ...data, packages: { ...data.packages, [name]: version } })
    },
    setFixture(patch) {
      writePackages({ ...readPackages(), ...patch })
    },
    generation() {
      const profile = path.join(env.XDG_STATE_HOME, 'nix/profiles/home-manager')
      try {
        const link = fs.readlinkSync(profile)
        return { number: Number(/home-manager-(\d+)-link$/.exec(link)?.[1]), path: fs.realpathSync(profile) }
      } catch {
        return undefined
      }
    },
    closure(storePath) {
      return execFileSync('nix-store', ['--query', '--requisites', storePath], { env, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
    },
    cleanup() {
      removeTree(root)
    },
  }
}
