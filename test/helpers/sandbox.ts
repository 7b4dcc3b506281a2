// A throwaway world for one integration test: temp HOME and XDG dirs, a salted
// copy of the fixture flake (fresh store paths in the shared /nix/store), the
// cachix and home-manager stand-ins first on PATH, and file:// caches.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { type Proc, processesWith } from './procs.js'

export const SECRET_MARKER = 'hms-secret-token-7f3a'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
export const FIXTURES_BIN = path.join(REPO_ROOT, 'test/fixtures/bin')
export const FIXTURE_FLAKE = path.join(REPO_ROOT, 'test/fixtures/home')
export const HMS_BIN = path.join(REPO_ROOT, 'bin/hms.js')

/**
 * The built hms copied where any user can read it, for tests that run it as `nobody`: the checkout itself may sit
 * in a 0700 directory (a fresh clone under root's home), where `nobody` cannot reach bin/hms.js.
 */
export function worldReadableHms(under?: string): string {
  const copy = under ? path.join(under, 'hms-copy') : fs.mkdtempSync(path.join(os.tmpdir(), 'hms-copy-'))
  for (const part of ['bin', 'dist', 'package.json'])
    fs.cpSync(path.join(REPO_ROOT, part), path.join(copy, part), { recursive: true })
  execFileSync('chmod', ['-R', 'a+rX', copy])
  return path.join(copy, 'bin/hms.js')
}

export interface RunResult {
  exitCode: number
  /** Set when the process died of a signal; exitCode is then 128 + its number. */
  signal?: string
  /** Raw output: no trailing newline is stripped, ANSI codes are kept. */
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Merged over the sandbox env; undefined removes a variable. */
  env?: Record<string, string | undefined>
  cwd?: string
  /** Written to stdin, then closed; without it stdin is /dev/null. */
  input?: string
  /** Kills the whole process group after this long (default 120 s). */
  timeoutMs?: number
  /** Called with the pid, which also leads the run's process group (pass -pid to process.kill). */
  onSpawn?: (pid: number) => void
}

export interface Sandbox {
  root: string
  home: string
  flakeDir: string
  cacheRoot: string
  env: Record<string, string>
  /**
   * Running processes this sandbox started, however deep: everything run with its env carries HMS_TEST_SANDBOX, and
   * Nix's builders (which get a clean env) its salt, an attribute of every fixture derivation. Nothing else has either.
   */
  processes(): Proc[]
  /** Creates $CACHIX_STANDIN_ROOT/name (the cache `name`) and returns it. */
  cacheDir(name: string): string
  /** Sets one package's version in flakeDir/packages.json. */
  setPackage(name: string, version: string): void
  /** Merges top-level fields (sleep, fail, size, …) into flakeDir/packages.json. */
  setFixture(patch: Record<string, unknown>): void
  /** Runs `node bin/hms.js ...args` in flakeDir with the sandbox env and no TTY. */
  hms(args: string[], opts?: RunOptions): Promise<RunResult>
  /** Runs any program the same way (the stand-ins are on the sandbox PATH). */
  run(file: string, args: string[], opts?: RunOptions): Promise<RunResult>
  /** The current home-manager generation, from $XDG_STATE_HOME/nix/profiles/home-manager. */
  generation(): { number: number; path: string } | undefined
  /** Store paths with a narinfo in a file:// cache (a directory or file:// URL). */
  cachePaths(cacheDirOrUrl: string): Set<string>
  /** NarSize of every store path in a file:// cache. */
  cacheNarSizes(cacheDir: string): Map<string, number>
  /** `nix-store -qR path`, dependencies first. */
  closure(path: string): string[]
  /**
   * Everything a switch of `attr` left built: the current generation's closure, plus what home-manager
   * builds beside it (nix-env's user-environment and env-manifest.nix, the news file hm-news.json).
   */
  built(attr?: string): string[]
  /** A second host: realises path into a fresh store, substituting only from the cache. */
  substitute(cacheDir: string, path: string): Promise<{ exitCode: number; stderr: string; storeDir: string }>
  cleanup(): void
}

function dirOf(program: string, fallback: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && dir !== FIXTURES_BIN && fs.existsSync(path.join(dir, program))) return dir
  }
  return fallback
}

function unique(items: string[]): string[] {
  return [...new Set(items.filter(Boolean))]
}

function readNarinfos(cacheDirOrUrl: string): Map<string, Record<string, string>> {
  const dir = cacheDirOrUrl.replace(/^file:\/\//, '').replace(/\?.*$/, '')
  const infos = new Map<string, Record<string, string>>()
  if (!fs.existsSync(dir)) return infos
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.narinfo')) continue
    const fields: Record<string, string> = {}
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const colon = line.indexOf(': ')
      if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2)
    }
    if (fields.StorePath) infos.set(fields.StorePath, fields)
  }
  return infos
}

function removeTree(dir: string): void {
  // Nix leaves read-only directories behind in chroot stores and copies.
  try {
    execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' })
  } catch {
    // Best effort: rmSync below reports what really matters.
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

function exitCodeOf(result: { exitCode?: number; signal?: string }): number {
  if (typeof result.exitCode === 'number') return result.exitCode
  const signo = result.signal ? os.constants.signals[result.signal as NodeJS.Signals] : undefined
  return signo ? 128 + signo : 1
}

function makeEnv(root: string, home: string, cacheRoot: string, salt: string): Record<string, string> {
  const path_ = unique([
    FIXTURES_BIN,
    dirOf('nix-build', '/usr/bin'),
    '/usr/local/bin',
    '/usr/bin',
    '/bin',
    path.dirname(process.execPath),
  ]).join(':')
  return {
    PATH: path_,
    HOME: home,
    USER: 'mitsio',
    LOGNAME: 'mitsio',
    LANG: 'C.UTF-8',
    TMPDIR: path.join(root, 'tmp'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    NIX_CONFIG: 'substituters =\n',
    CACHIX_STANDIN_ROOT: cacheRoot,
    CACHIX_AUTH_TOKEN: SECRET_MARKER,
    CI: 'true',
    NO_COLOR: '1',
    HMS_TEST_SANDBOX: salt,
  }
}

export function makeSandbox(): Sandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hms-sbx-'))
  // Nix's builders run as nixbld users and get their build dirs under TMPDIR.
  fs.chmodSync(root, 0o755)
  const home = path.join(root, 'home')
  const flakeDir = path.join(root, 'flake')
  const cacheRoot = path.join(root, 'caches')
  const salt = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
  const env = makeEnv(root, home, cacheRoot, salt)
  for (const dir of [home, cacheRoot, env.TMPDIR!, env.XDG_CONFIG_HOME!, env.XDG_STATE_HOME!, env.XDG_CACHE_HOME!]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
  }
  fs.chmodSync(env.TMPDIR!, 0o1777)
  fs.cpSync(FIXTURE_FLAKE, flakeDir, { recursive: true })
  const packagesFile = path.join(flakeDir, 'packages.json')
  const running = new Set<number>()
  let substitutes = 0

  const readPackages = (): Record<string, unknown> => JSON.parse(fs.readFileSync(packagesFile, 'utf8'))
  const writePackages = (data: Record<string, unknown>): void =>
    fs.writeFileSync(packagesFile, `${JSON.stringify(data, null, 2)}\n`)

  writePackages({ ...readPackages(), salt })

  const mergedEnv = (extra?: Record<string, string | undefined>): Record<string, string> => {
    const out: Record<string, string> = { ...env }
    for (const [key, value] of Object.entries(extra ?? {})) {
      if (value === undefined) delete out[key]
      else out[key] = value
    }
    return out
  }

  const run = async (file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const child = execa(file, args, {
      env: mergedEnv(opts.env),
      extendEnv: false,
      cwd: opts.cwd ?? flakeDir,
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
      detached: true,
      reject: false,
      stripFinalNewline: false,
    })
    const pid = child.pid
    let timer: NodeJS.Timeout | undefined
    if (pid !== undefined) {
      running.add(pid)
      opts.onSpawn?.(pid)
      timer = setTimeout(() => killGroup(pid, 'SIGKILL'), opts.timeoutMs ?? 120_000)
    }
    const result = await child
    if (timer) clearTimeout(timer)
    if (pid !== undefined) running.delete(pid)
    return {
      exitCode: exitCodeOf(result),
      ...(result.signal ? { signal: result.signal } : {}),
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
    }
  }

  const nixStore = (args: string[]): string =>
    execFileSync('nix-store', args, { env: mergedEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

  return {
    root,
    home,
    flakeDir,
    cacheRoot,
    env,
    processes: () => processesWith([`HMS_TEST_SANDBOX=${salt}`, `salt=${salt}`]),
    cacheDir(name) {
      const dir = path.join(cacheRoot, name)
      fs.mkdirSync(dir, { recursive: true })
      return dir
    },
    setPackage(name, version) {
      const data = readPackages()
      writePackages({ ...data, packages: { ...(data.packages as Record<string, string>), [name]: version } })
    },
    setFixture(patch) {
      writePackages({ ...readPackages(), ...patch })
    },
    hms: (args, opts) => run(process.execPath, [HMS_BIN, ...args], opts),
    run,
    generation() {
      const profile = path.join(env.XDG_STATE_HOME!, 'nix/profiles/home-manager')
      let link: string
      try {
        link = fs.readlinkSync(profile)
      } catch {
        return undefined
      }
      const match = /home-manager-(\d+)-link$/.exec(link)
      if (!match) return undefined
      return { number: Number(match[1]), path: fs.realpathSync(profile) }
    },
    cachePaths: (cacheDirOrUrl) => new Set(readNarinfos(cacheDirOrUrl).keys()),
    cacheNarSizes(cacheDir) {
      const sizes = new Map<string, number>()
      for (const [storePath, fields] of readNarinfos(cacheDir)) sizes.set(storePath, Number(fields.NarSize))
      return sizes
    },
    closure: (storePath) => nixStore(['--query', '--requisites', storePath]).split('\n').filter(Boolean),
    built(attr = 'mitsio@shoshin') {
      const closure = (p: string) => nixStore(['--query', '--requisites', p]).split('\n').filter(Boolean)
      const generation = fs.realpathSync(path.join(env.XDG_STATE_HOME!, 'nix/profiles/home-manager'))
      const userEnvironment = fs.realpathSync(path.join(env.XDG_STATE_HOME!, 'nix/profiles/profile'))
      const news = execFileSync(
        'nix-build',
        [
          path.join(flakeDir, 'home.nix'),
          '-A',
          `homeConfigurations."${attr}".config.news.json.output`,
          '--no-out-link',
        ],
        {
          env: mergedEnv(),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      ).trim()
      return unique([...closure(generation), ...closure(userEnvironment), news])
    },
    async substitute(cacheDir, storePath) {
      substitutes += 1
      const storeDir = path.join(root, `second-host-${substitutes}`)
      const result = await run('nix-store', [
        '--store',
        storeDir,
        '--option',
        'substituters',
        `file://${cacheDir}`,
        '--option',
        'require-sigs',
        'false',
        '--realise',
        storePath,
      ])
      return { exitCode: result.exitCode, stderr: result.stderr, storeDir }
    },
    cleanup() {
      for (const pid of running) killGroup(pid, 'SIGKILL')
      running.clear()
      removeTree(root)
    },
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}
