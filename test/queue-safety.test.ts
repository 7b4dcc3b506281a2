// Issue 10: every hole found by trying to break the queue, end to end with the stand-ins.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { constants as osConstants } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { formatIdentity, identityOf } from '../src/lib/identity.js'
import { binWith, noStackTrace, nothingLeft, pending, summaryOf, until, useSandboxes } from './helpers/common.js'
import { FIXTURES_BIN, HMS_BIN, type RunResult, type Sandbox, worldReadableHms } from './helpers/sandbox.js'

const sandbox = useSandboxes()
/** The network is down, and the first retry waits a minute: long enough to be signalled in. */
const down = { CACHIX_STANDIN_FAIL: 'network', HMS_RETRY_BASE_MS: '60000' }
const oneLine = (dir: string, code: string) =>
  new RegExp(`^hms: cannot write hms's state in ${dir} \\(${code}\\) — [^\\n]+\\n$`)
const stateDir = (s: Sandbox) => join(s.env.XDG_STATE_HOME!, 'hms')
const stateFile = (s: Sandbox, name: string) => join(stateDir(s), name)
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean)
const history = (s: Sandbox) => lines(stateFile(s, 'history.jsonl')).map((l) => JSON.parse(l))
const writeConfig = (s: Sandbox, config: unknown) => {
  mkdirSync(join(s.env.XDG_CONFIG_HOME!, 'hms'), { recursive: true })
  writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), JSON.stringify(config))
}
/** Every file of the state dir, byte for byte. */
const snapshot = (s: Sandbox) =>
  Object.fromEntries(
    readdirSync(stateDir(s))
      .sort()
      .map((f) => [f, readFileSync(stateFile(s, f)).toString('base64')]),
  )
/** No process of this sandbox is left (an orphaned cachix or home-manager finishes first). */
const settled = (s: Sandbox) => nothingLeft(s, [], 90_000)
const isRunning = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')
  } catch {
    return false
  }
}
/** Power loss: hms and everything it started, at once. */
function killAll(s: Sandbox): void {
  for (const { pid } of s.processes()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

interface Live {
  pid: number
  stderr: () => string
  done: Promise<RunResult>
}
const started: ChildProcess[] = []
afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
  }
})

/** hms started in the background, its stderr readable while it runs (to signal it at a known moment). */
function start(s: Sandbox, args: string[], env: Record<string, string> = {}): Live {
  const options: SpawnOptions = { cwd: s.flakeDir, env: { ...s.env, ...env }, detached: true, stdio: 'pipe' }
  const child = spawn(process.execPath, [HMS_BIN, ...args], options)
  started.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => {
    stdout += d
  })
  child.stderr!.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code, signal) => {
      const exitCode = code ?? 128 + (signal ? osConstants.signals[signal] : 0)
      resolve({ exitCode, ...(signal ? { signal } : {}), stdout, stderr })
    }),
  )
  return { pid: child.pid!, stderr: () => stderr, done }
}

/** The rule of issue 10: every path of the generation is in the cache, or in the closure of a queued entry for it. */
function unaccounted(s: Sandbox, cache: string): string[] {
  const generation = s.generation()
  if (!generation) return []
  const inCache = s.cachePaths(s.cacheDir(cache))
  const queued = new Set(
    pending(s)
      .filter((e) => e.cache === cache)
      .flatMap((e) => s.closure(e.path)),
  )
  return s.closure(generation.path).filter((p) => !inCache.has(p) && !queued.has(p))
}

describe('--plan never writes', () => {
  it('every subcommand × --plan leaves the state dir byte-identical, and recovers nothing', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })).exitCode).toBe(0)
    const generation = s.generation()!
    // A dead switch's marker: only a real run may turn it into a queue entry.
    const dead = { cache: 'other', owner: '999999999 1 x', since: '2026-01-01T00:00:00Z' }
    writeFileSync(stateFile(s, 'switch.inflight'), JSON.stringify(dead))
    writeFileSync(stateFile(s, 'pending.jsonl'), `${readFileSync(stateFile(s, 'pending.jsonl'), 'utf8')}{"torn\n`)
    const before = snapshot(s)
    const runs = [
      ['--plan'],
      ['switch', '--plan', '--background'],
      ['push', '--plan'],
      ['push', '--plan', '--', generation.path],
      ['push', '--pending', '--plan'],
      ['push', '--pending', '--drop', '--plan'],
      ['push', '--pending', '--drop', '--cache', 'modular-workspace', '--plan'],
      ['push', '--background', '--plan'],
      ['status', '--plan'],
      ['log', '--plan'],
      ['verify', '--plan'],
      ['doctor', '--plan'],
      ['init', '--plan'],
      ['completion', 'bash', '--plan'],
      ['help', '--plan'],
    ]
    for (const args of runs) {
      const run = await s.hms(args)
      expect(run.stderr, args.join(' ')).not.toMatch(noStackTrace)
      expect(snapshot(s), args.join(' ')).toEqual(before)
    }
    const drop = await s.hms(['push', '--pending', '--drop', '--plan'])
    expect(drop.exitCode, drop.stderr).toBe(0)
    expect(drop.stdout).toMatch(/^would drop 1 queued path$/m)
    expect(readFileSync(stateFile(s, 'pending.jsonl'), 'utf8')).toContain(generation.path)
  })
})

describe('signals at any moment of the run', () => {
  const title = '%s during the retry back-off of a switch: summary, generation queued, exit %i, no lock or marker left'
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(title, async (signal, code) => {
    const s = sandbox()
    const run = start(s, ['--flake', '.#mitsio@shoshin', '--retries', '3'], down)
    await until(() => /retry 1\/3 in 60\.0s/.test(run.stderr()), 60_000)
    process.kill(run.pid, signal)
    const result = await run.done
    expect(result.exitCode, result.stderr).toBe(code)
    expect(result.signal).toBeUndefined()
    expect(result.stderr).toMatch(
      new RegExp(
        `✔ shoshin switched in [\\d.]+s \\(generation 1\\) · push to modular-workspace interrupted by ${signal}: ` +
          `\\d+ paths? queued`,
      ),
    )
    expect(result.stderr).not.toMatch(/failed to push/)
    expect(result.stderr).not.toMatch(/retry 2\/3/)
    expect(pending(s).map((e) => e.path)).toContain(s.generation()!.path)
    expect(pending(s).every((e) => e.reason === 'interrupted')).toBe(true)
    expect(readdirSync(stateDir(s)).filter((f) => /lock|inflight/.test(f))).toEqual([])
    expect(history(s).at(-1)).toMatchObject({ command: 'switch', exitCode: code })
    expect(unaccounted(s, 'modular-workspace')).toEqual([])
  })

  it('SIGTERM during the back-off of hms push: summary, history, exit 143, paths still queued', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const run = start(s, ['push', '--retries', '3'], down)
    await until(() => /retry 1\/3 in 60\.0s/.test(run.stderr()), 60_000)
    process.kill(run.pid, 'SIGTERM')
    const result = await run.done
    expect(result.exitCode, result.stderr).toBe(143)
    expect(result.stderr).toMatch(/! push to modular-workspace interrupted by SIGTERM: 1 path queued \[generation\]/)
    expect(pending(s).map((e) => e.path)).toEqual([s.generation()!.path])
    expect(history(s).at(-1)).toMatchObject({ command: 'push', exitCode: 143 })
    expect(readdirSync(stateDir(s)).filter((f) => /lock/.test(f))).toEqual([])
  })
  it('SIGINT while hms push asks cachix its version: summary, history, exit 130, paths still queued', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const ready = join(s.root, 'asked')
    const slow = binWith(
      s,
      'cachix',
      [
        '#!/bin/sh',
        `if [ "$1" = --version ]; then : > ${ready}; sleep 30; fi`,
        `exec ${join(FIXTURES_BIN, 'cachix')} "$@"`,
      ].join('\n'),
    )
    const run = start(s, ['push'], { PATH: slow })
    await until(() => existsSync(ready), 60_000)
    process.kill(run.pid, 'SIGINT')
    const result = await run.done
    expect(result.exitCode, result.stderr).toBe(130)
    expect(result.stderr).toMatch(/^! not pushed: interrupted by SIGINT \[generation\]$/m)
    expect(pending(s).map((e) => e.path)).toEqual([s.generation()!.path])
    expect(history(s).at(-1)).toMatchObject({ command: 'push', exitCode: 130 })
  })
})

describe('kill -9, then any command tells the truth', () => {
  it.each([
    ['while cachix pushes', { CACHIX_STANDIN_PUSH_DELAY: '2' }, (s: Sandbox) => s.generation() !== undefined],
    ['during the retry back-off', down, (_s: Sandbox, stderr: string) => /retry 1\/2 in 60/.test(stderr)],
  ] as const)('%s: status and doctor show the generation waiting, push --pending completes it', async (_, env, ok) => {
    const s = sandbox()
    const run = start(s, ['--flake', '.#mitsio@shoshin'], env)
    await until(() => ok(s, run.stderr()), 60_000)
    killAll(s)
    await run.done
    await settled(s)
    const generation = s.generation()!
    expect(s.cachePaths(s.cacheDir('modular-workspace')).size).toBeLessThan(s.closure(generation.path).length)
    const status = await s.hms(['status'])
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^pending {5}1 for modular-workspace — run hms push --pending$/m)
    expect(status.stderr).toMatch(/the last switch was stopped before it finished pushing; generation 1 is queued/)
    const doctor = JSON.parse((await s.hms(['doctor', '--json'])).stdout)
    const check = doctor.checks.find((c: { id: string }) => c.id === 'pending')
    expect(check).toMatchObject({ status: 'warn', message: expect.stringMatching(/^1 path waiting/) })
    expect(unaccounted(s, 'modular-workspace')).toEqual([])
    const push = await s.hms(['push', '--pending'])
    expect(push.exitCode, push.stderr).toBe(0)
    expect(pending(s)).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
  })

  it('hms alone killed during the build: while its children still run, status leaves its marker alone', async () => {
    const s = sandbox()
    s.setFixture({ sleep: 5 })
    const run = start(s, ['--flake', '.#mitsio@shoshin'])
    await until(() => s.processes().some(({ args }) => args.startsWith(`nix-build ${s.flakeDir}/`)), 60_000)
    process.kill(run.pid, 'SIGKILL')
    await until(() => !isRunning(run.pid))
    // home-manager and nix may still link a generation: queueing "the current one" now would be too early.
    const meanwhile = await s.hms(['status'])
    expect(meanwhile.stderr).toMatch(/a stopped switch's processes are still running \(pid \d+/)
    expect(readdirSync(stateDir(s))).toContain('switch.inflight')
    killAll(s)
    await settled(s)
    const after = await s.hms(['status'])
    expect(after.stderr).not.toMatch(/still running/)
    expect(readdirSync(stateDir(s))).not.toContain('switch.inflight')
    expect(unaccounted(s, 'modular-workspace')).toEqual([])
  })

  it('a --background push killed before it did anything: the generation is queued all the same', async () => {
    const s = sandbox()
    // The detached push stalls before hms's own code runs, so it can be killed at its very start.
    const stall = join(s.root, 'stall.cjs')
    const sleep = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000)'
    writeFileSync(stall, `if (process.env.HMS_BACKGROUND) ${sleep}\n`)
    const env = { NODE_OPTIONS: `--require ${stall}` }
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--background', '--json'], { env })
    expect(run.exitCode, run.stderr).toBe(0)
    const { pid } = summaryOf(run.stdout).background!
    process.kill(pid, 'SIGKILL')
    const generation = s.generation()!
    expect(pending(s)).toMatchObject([{ path: generation.path, cache: 'modular-workspace' }])
    expect(unaccounted(s, 'modular-workspace')).toEqual([])
    expect((await s.hms(['push', '--pending'])).exitCode).toBe(0)
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
  })
})

describe('hms push -- PATHS', () => {
  it('pushes the paths after --, not the current generation', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const profiles = join(s.env.XDG_STATE_HOME!, 'nix/profiles')
    const first = realpathSync(join(profiles, readlinkSync(join(profiles, 'home-manager'))))
    s.setPackage('ripgrep', '14.2')
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const second = s.generation()!.path
    expect(second).not.toBe(first)
    const run = await s.hms(['push', '--json', '--', first])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout).mode).toBe('paths')
    const cached = s.cachePaths(s.cacheDir('modular-workspace'))
    expect(cached).toEqual(new Set(s.closure(first)))
    expect(cached.has(second)).toBe(false)
  })
})

describe('queue entries remember where they were going', () => {
  it('paths queued for a store URL are never sent to a Cachix cache of the same name', async () => {
    const s = sandbox()
    const nasCachix = s.cacheDir('nas')
    // A file where the directory should be: nix copy fails, and the paths are queued for the URL.
    const blocked = join(s.root, 'nas-is-a-file')
    writeFileSync(blocked, '')
    writeConfig(s, { caches: { nas: { url: `file://${blocked}` } } })
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const failed = await s.hms(['push', '--cache', 'nas', '--retries', '0'])
    expect(failed.exitCode, failed.stderr).toBe(0)
    expect(pending(s)).toMatchObject([{ cache: 'nas', target: { kind: 'store', url: `file://${blocked}` } }])
    writeConfig(s, {})
    const refused = await s.hms(['push', '--pending'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(
      `1 queued path for nas not pushed: they were queued for file://${blocked}, ` +
        'but nas now means the Cachix cache nas; to forget them: hms push --pending --drop --cache nas',
    )
    expect(readdirSync(nasCachix)).toEqual([])
    expect(pending(s)).toHaveLength(1)
  })

  it('--cache filters say what waits for the other caches', async () => {
    const s = sandbox()
    s.cacheDir('other')
    expect((await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })).exitCode).toBe(0)
    const run = await s.hms(['push', '--pending', '--cache', 'other'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toContain('1 path waits for modular-workspace, not pushed now (--cache other)')
    expect(run.stderr).toContain('nothing waits for other')
    expect(run.stderr).not.toContain('the queue is empty')
    expect(pending(s)).toHaveLength(1)
  })

  it('old queue lines without a target are still read and pushed', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const generation = s.generation()!
    mkdirSync(stateDir(s), { recursive: true })
    const old = { path: generation.path, cache: 'modular-workspace', reason: 'push failed', since: '2026-01-01T00:00Z' }
    writeFileSync(stateFile(s, 'pending.jsonl'), `${JSON.stringify(old)}\n`)
    const run = await s.hms(['push', '--pending'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(pending(s)).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
  })
})

describe('locks that pid reuse cannot fool', () => {
  it('a switch.lock naming a live process that is no hms is stale', async () => {
    const s = sandbox()
    const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' })
    started.push(sleeper)
    mkdirSync(stateDir(s), { recursive: true })
    writeFileSync(stateFile(s, 'switch.lock'), `${sleeper.pid}\n`)
    const run = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(s.generation()!.number).toBe(1)
  })

  it('a queue.lock naming pid 1 (left before a reboot) does not cost a failed push its queue', async () => {
    const s = sandbox()
    mkdirSync(stateDir(s), { recursive: true })
    writeFileSync(stateFile(s, 'queue.lock'), '1\n')
    const env = { CACHIX_STANDIN_FAIL: 'network' }
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--retries', '0'], { env })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).not.toMatch(/could not queue/)
    expect(unaccounted(s, 'modular-workspace')).toEqual([])
    expect(pending(s).length).toBeGreaterThan(0)
  })

  it('a lock held by a live hms is refused with how to clear it by hand', async () => {
    const s = sandbox()
    mkdirSync(stateDir(s), { recursive: true })
    writeFileSync(stateFile(s, 'switch.lock'), `${formatIdentity(identityOf(process.pid))}\n`)
    const run = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(run.exitCode).toBe(1)
    const pid = process.pid
    expect(run.stderr).toBe(
      `hms: another hms is switching (pid ${pid}) — wait for it to finish, or see hms status; ` +
        `if pid ${pid} is no hms, remove ${stateFile(s, 'switch.lock')}\n`,
    )
  })
})

describe('a state dir that cannot be written', () => {
  it('every command: one line naming the dir where it must write, no stack trace; readers still work', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const dir = stateDir(s)
    // Root writes anywhere: a file where hms's directory should be stands in for a read-only one.
    rmSync(dir, { recursive: true })
    writeFileSync(dir, '')
    const mustWrite = [
      ['push'],
      ['push', '--pending'],
      ['push', '--pending', '--drop'],
      ['push', '--', s.generation()!.path],
    ]
    for (const args of mustWrite) {
      const run = await s.hms(args)
      expect(run.exitCode, args.join(' ')).toBe(1)
      expect(run.stderr, args.join(' ')).toMatch(oneLine(dir, 'E[A-Z]+'))
    }
    // These only read state (or none: verify, completion, init write elsewhere).
    const readers = [
      ['status'],
      ['log'],
      ['doctor'],
      ['verify'],
      ['completion', 'bash'],
      ['init', '--cache', 'x', '--force'],
    ]
    for (const args of readers) {
      const run = await s.hms(args)
      expect(run.stderr, args.join(' ')).not.toMatch(noStackTrace)
      expect(run.stderr, args.join(' ')).not.toMatch(/unexpected error/)
    }
    expect((await s.hms(['status'])).exitCode).toBe(0)
    expect((await s.hms(['log'])).exitCode).toBe(0)
  })

  it('on a full disk: one-line errors, the queue intact and no temp or lock file left', async (ctx) => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    // A tiny tmpfs of its own stands in for a full disk (root may mount one; elsewhere there is no way to fill a disk).
    const disk = join(s.root, 'full-state')
    mkdirSync(disk)
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status !== 0) {
      return ctx.skip('cannot mount a small tmpfs here (not root, or no mount permission)')
    }
    try {
      const env = { XDG_STATE_HOME: disk }
      const dir = join(disk, 'hms')
      mkdirSync(dir, { mode: 0o700 })
      const entry = { path: s.generation()!.path, cache: 'modular-workspace', reason: 'r', since: 's' }
      writeFileSync(join(dir, 'pending.jsonl'), `${JSON.stringify(entry)}\n`)
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=4k', 'count=64'])
      const queue = readFileSync(join(dir, 'pending.jsonl'), 'utf8')
      for (const args of [
        ['push', entry.path],
        ['push', '--pending', '--drop'],
      ]) {
        const run = await s.hms(args, { env })
        expect(run.exitCode, `${args.join(' ')}: ${run.stderr}`).toBe(1)
        expect(run.stderr, args.join(' ')).toMatch(oneLine(dir, 'ENOSPC'))
        expect(readdirSync(dir).sort(), args.join(' ')).toEqual(['pending.jsonl'])
        expect(readFileSync(join(dir, 'pending.jsonl'), 'utf8')).toBe(queue)
      }
    } finally {
      spawnSync('umount', [disk])
    }
  })

  // Only root can become `nobody`.
  const asRoot = process.getuid?.() === 0
  it.skipIf(!asRoot)(
    'as a user who may not write it (nobody): one-line errors and no *.lock.<pid>.new litter',
    async () => {
      const s = sandbox()
      expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
      mkdirSync(stateDir(s), { recursive: true })
      const entry = { path: s.generation()!.path, cache: 'modular-workspace', reason: 'r', since: 's' }
      writeFileSync(stateFile(s, 'pending.jsonl'), `${JSON.stringify(entry)}\n`)
      // hms itself, world-readable (the checkout may sit in a 0700 directory).
      const hms = worldReadableHms(s.root)
      const before = readdirSync(stateDir(s)).sort()
      for (const args of [['push', '--pending'], ['push', '--pending', '--drop'], ['push'], ['status'], ['log']]) {
        const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups']
        const argv = [...nobody, process.execPath, hms, ...args]
        const run = spawnSync('setpriv', argv, { cwd: '/', env: s.env, encoding: 'utf8' })
        expect(run.stderr, args.join(' ')).not.toMatch(noStackTrace)
        expect(run.stderr, args.join(' ')).not.toMatch(/unexpected error/)
        if (args[0] === 'push') {
          expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(1)
          expect(run.stderr, args.join(' ')).toMatch(oneLine(stateDir(s), 'EACCES'))
        } else expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0)
        expect(readdirSync(stateDir(s)).sort(), args.join(' ')).toEqual(before)
      }
    },
  )
})

describe('read commands and what they print', () => {
  it('status says the queue is damaged; log and status move nothing; state text is printed escaped', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })).exitCode).toBe(0)
    const evil = 'evil\u001b]0;owned\u0007\u001b[31m'
    appendFileSync(stateFile(s, 'pending.jsonl'), '\u0000\u0000\u0000\n')
    const record = JSON.stringify({ ...history(s)[0], profile: evil })
    appendFileSync(stateFile(s, 'history.jsonl'), `{"broken\n${record}\n`)
    const before = snapshot(s)
    const status = await s.hms(['status'])
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^damaged {5}the queue file has unreadable lines: .*pending\.jsonl is damaged/m)
    expect(status.stdout).toMatch(/^pending {5}1 for modular-workspace/m)
    const log = await s.hms(['log'])
    expect(log.exitCode, log.stderr).toBe(0)
    for (const out of [status.stdout + status.stderr, log.stdout + log.stderr]) {
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
      expect(out).toContain('evil\\x1b]0;owned\\x07\\x1b[31m')
    }
    expect(log.stderr).toMatch(/history\.jsonl is damaged \(1 unreadable line\)/)
    expect(snapshot(s)).toEqual(before)
  })

  it('--verify --strict: a verify failure has its own exit code (4), not "push failed" (3)', async () => {
    const s = sandbox()
    const cache = join(s.root, 'nas')
    writeConfig(s, { cache: `file://${cache}`, push: { exclude: ['^hm-pkg-git-'] } })
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--verify', '--strict', '--json'])
    const summary = summaryOf(run.stdout)
    expect(summary.push.failed).toEqual([])
    expect(summary.verify).toMatchObject({ ok: false })
    expect(run.exitCode, run.stderr).toBe(4)
  })
})

describe('property: whatever is killed when, every built path is in the cache or in the queue', () => {
  it('kill -9 at a random moment of a switch or of hms push --pending', async () => {
    const fc = await import('fast-check')
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('switch', 'push'),
        fc.integer({ min: 0, max: 2500 }),
        fc.boolean(),
        async (cmd, ms, all) => {
          const s = sandbox()
          if (cmd === 'switch') {
            expect((await s.hms(['--flake', '.#mitsio@shoshin'])).exitCode).toBe(0)
            s.setPackage('ripgrep', '14.2')
          } else {
            // Built for the cache but not pushed: queued.
            const queued = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
            expect(queued.exitCode).toBe(0)
          }
          const args = cmd === 'switch' ? ['--flake', '.#mitsio@shoshin'] : ['push', '--pending']
          const run = start(s, args, { CACHIX_STANDIN_PUSH_DELAY: '0.3' })
          await new Promise((resolve) => setTimeout(resolve, ms))
          // hms alone (its children finish on their own), or power loss (everything at once).
          if (all) killAll(s)
          else {
            try {
              process.kill(run.pid, 'SIGKILL')
            } catch {}
          }
          await run.done
          await settled(s)
          expect((await s.hms(['status'])).exitCode).toBe(0)
          expect(unaccounted(s, 'modular-workspace')).toEqual([])
          s.cleanup()
        },
      ),
      { numRuns: 4, endOnFailure: true },
    )
  }, 240_000)
})
