import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync as write } from 'node:fs'
import { dirname } from 'node:path'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { alive, joined, pending, runs, sleep, summaryOf, until as waitFor, useSandboxes } from './helpers/common.js'
import type { Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()
const stateFile = (s: Sandbox, name: string) => join(s.env.XDG_STATE_HOME!, 'hms', name)
const history = (s: Sandbox) =>
  readFileSync(stateFile(s, 'history.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
function writeFileSync(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true })
  write(file, text)
}
const fast = { HMS_RETRY_BASE_MS: '10' }

describe('the pending queue', () => {
  it(
    'network down: switch exits 0 and queues; hms push --pending pushes exactly those and another ' + 'host can pull',
    async () => {
      const s = sandbox()
      const down = await s.hms(['--flake', '.#mitsio@shoshin', '--json'], {
        env: { CACHIX_STANDIN_FAIL: 'network', ...fast },
      })
      expect(down.exitCode, down.stderr).toBe(0)
      const queued = summaryOf(down.stdout).push.queued
      expect(queued.length).toBeGreaterThan(0)
      expect(
        pending(s)
          .map((e) => e.path)
          .sort(),
      ).toEqual([...queued].sort())
      expect(pending(s).every((e) => e.cache === 'modular-workspace' && e.reason === 'push failed' && e.since)).toBe(
        true,
      )
      expect(down.stderr).toMatch(/retry 1\/2 in 0\.0s[\s\S]*retry 2\/2/)

      const up = await s.hms(['push', '--pending', '--json'])
      expect(up.exitCode, up.stderr).toBe(0)
      expect(summaryOf(up.stdout)).toMatchObject({ mode: 'pending', switch: null })
      expect(pending(s)).toEqual([])
      const generation = s.generation()!
      // Everything the switch built and could not push: the generation and what was built beside it.
      expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.built()))
      const pulled = await s.substitute(s.cacheDir('modular-workspace'), generation.path)
      expect(pulled.exitCode, pulled.stderr).toBe(0)
    },
  )

  it('without credentials the generation is queued, and the next hms run pushes it', async () => {
    const s = sandbox()
    const first = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    expect(first.exitCode, first.stderr).toBe(0)
    const generation = s.generation()!
    expect(pending(s)).toMatchObject([
      { path: generation.path, cache: 'modular-workspace', reason: 'no Cachix credentials found' },
    ])
    const next = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(next.exitCode, next.stderr).toBe(0)
    expect(next.stderr).toMatch(/retrying 1 queued path for modular-workspace/)
    expect(pending(s)).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
  })

  it('says how many paths wait when autoRetry is off', async () => {
    const s = sandbox()
    await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), JSON.stringify({ push: { autoRetry: false } }))
    const next = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(next.stderr).toMatch(/^1 path waiting for modular-workspace — run hms push --pending$/m)
    expect(pending(s)).toHaveLength(1)
  }, 60_000)

  it('a damaged queue is reported, set aside, and hms still switches', async () => {
    const s = sandbox()
    await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    writeFileSync(
      stateFile(s, 'pending.jsonl'),
      `${readFileSync(stateFile(s, 'pending.jsonl'), 'utf8')}{"path": "/nix/sto\n`,
    )
    s.setPackage('git', '2.45')
    const run = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(
      joined(
        /pending\.jsonl is damaged \(1 unreadable line\); /,
        /kept 1 good entries and moved the damaged file to .*pending\.jsonl\.corrupt-\d+/,
      ),
    )
    expect(s.generation()!.number).toBe(2)
    expect(readdirSync(join(s.env.XDG_STATE_HOME!, 'hms')).some((f) => f.startsWith('pending.jsonl.corrupt-'))).toBe(
      true,
    )
    expect(pending(s)).toEqual([])
  })
})

describe('hms push', () => {
  it('pushes the whole closure of the current generation; again: nothing, all already present', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const generation = s.generation()!
    const closure = s.closure(generation.path)
    const first = await s.hms(['push', '--json'])
    expect(first.exitCode, first.stderr).toBe(0)
    const summary = summaryOf(first.stdout)
    expect(summary).toMatchObject({
      mode: 'generation',
      switch: null,
      push: { attempted: true, failed: [], alreadyPresent: 0 },
    })
    expect(summary.push.pushed.map((p) => p.path).sort()).toEqual([...closure].sort())
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(closure))
    const again = await s.hms(['push'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr).toMatch(
      new RegExp(`nothing new to push, ${closure.length} already present → modular-workspace`),
    )
    expect(history(s).map((r) => r.command)).toEqual(['switch', 'push', 'push'])
  })

  it(
    'precision: watch-exec pushes only what changed; a generation push to a fresh cache pushes it all; ' +
      'both caches hold the generation',
    async () => {
      const s = sandbox()
      s.cacheDir('fresh')
      expect((await s.hms(['--flake', '.#mitsio@shoshin'])).exitCode).toBe(0)
      s.setPackage('ripgrep', '14.2')
      const watch = summaryOf((await s.hms(['--flake', '.#mitsio@shoshin', '--json'])).stdout)
      const generation = s.generation()!
      const whole = summaryOf(
        (await s.hms(['--flake', '.#mitsio@shoshin', '--json', '--mode', 'generation', '--cache', 'fresh'])).stdout,
      )
      expect(whole.mode).toBe('generation')
      expect(watch.push.pushed.length).toBeLessThan(whole.push.pushed.length)
      expect(watch.push.bytes).toBeLessThan(whole.push.bytes)
      const closure = new Set(s.closure(generation.path))
      expect(whole.push.pushed.length).toBe(closure.size)
      for (const cache of ['modular-workspace', 'fresh']) {
        const cached = s.cachePaths(s.cacheDir(cache))
        for (const p of closure) expect(cached.has(p), `${p} in ${cache}`).toBe(true)
      }
    },
  )

  it('kill -9 in the middle of a push leaves the queue intact; hms push --pending completes it', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const generation = s.generation()!
    const log = join(s.root, 'cachix.log')
    let hmsPid = 0
    const running = s.hms(['push'], {
      env: { CACHIX_STANDIN_FAIL: 'network', CACHIX_STANDIN_RETRY_DELAY: '5', CACHIX_STANDIN_LOG: log },
      onSpawn: (pid) => {
        hmsPid = pid
      },
    })
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('push'))
    process.kill(hmsPid, 'SIGKILL')
    await running
    expect(pending(s)).toMatchObject([{ path: generation.path, cache: 'modular-workspace' }])
    const done = await s.hms(['push', '--pending'])
    expect(done.exitCode, done.stderr).toBe(0)
    expect(pending(s)).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
  })

  it('two hms at once: one switches, the other refuses clearly; state stays valid', async () => {
    const s = sandbox()
    s.setFixture({ sleep: 2 })
    const [a, b] = await Promise.all([
      s.hms(['--flake', '.#mitsio@shoshin']),
      sleep(300).then(() => s.hms(['--flake', '.#mitsio@shoshin'])),
    ])
    const codes = [a.exitCode, b.exitCode].sort()
    expect(codes).toEqual([0, 1])
    const refused = a.exitCode === 1 ? a : b
    expect(refused.stderr).toMatch(/^hms: another hms is switching \(pid \d+\) — wait for it to finish/m)
    expect(history(s)).toHaveLength(1)
    expect(s.generation()!.number).toBe(1)
  })

  it('--background returns while the push goes on; history then has the result', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--background', '--json'], {
      env: { CACHIX_STANDIN_PUSH_DELAY: '0.3' },
    })
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.mode).toBe('generation')
    const pid = summary.background!.pid
    expect(alive(pid)).toBe(true)
    const status = await s.hms(['status', '--json'])
    expect(JSON.parse(status.stdout).running.push).toBe(pid)
    await waitFor(() => !alive(pid))
    const generation = s.generation()!
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.closure(generation.path)))
    expect(history(s).map((r) => [r.command, r.exitCode])).toEqual([
      ['switch', 0],
      ['push', 0],
    ])
    expect(history(s)[1].paths).toBe(s.closure(generation.path).length)
    expect(readFileSync(summary.background!.log, 'utf8')).toMatch(/pushed \d+ paths/)
  })
})

describe('hms status and hms log', () => {
  it('show the generation, pending count, recent runs and quota use', async () => {
    const s = sandbox()
    await s.hms(['--flake', '.#mitsio@shoshin'])
    await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), JSON.stringify({ quotaBytes: 1024 }))
    const status = await s.hms(['status', '-p', 'shoshin'])
    expect(status.exitCode).toBe(0)
    expect(status.stdout).toMatch(/^profile {5}shoshin \(host shoshin\)$/m)
    expect(status.stdout).toMatch(new RegExp(`^generation  ${s.generation()!.number} `, 'm'))
    expect(status.stdout).toMatch(/^pending {5}1 for modular-workspace — run hms push --pending$/m)
    expect(status.stdout).toMatch(/^usage {7}modular-workspace: [\d.]+ KiB of 1.00 KiB in 30 days \(\d+ %\)$/m)
    expect(status.stderr).toMatch(/modular-workspace has taken \d+ % of its 1.00 KiB quota/)
    const json = JSON.parse((await s.hms(['status', '--json'])).stdout)
    expect(json.pending).toEqual({ 'modular-workspace': 1 })
    expect(json.recent).toHaveLength(2)
    const log = await s.hms(['log', '-n', '1'])
    expect(log.stdout.trim().split('\n')).toHaveLength(1)
    expect(log.stdout).toMatch(
      /shoshin +switch gen \d+ +plain +0 paths, 0\.00 B → modular-workspace in [\d.]+s {2}exit 0/,
    )
  })
})

describe('hms status for a store-URL cache', () => {
  it('reports what was pushed there without a Cachix quota', async () => {
    const s = sandbox()
    const url = `file://${join(s.root, 'nas')}`
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--cache', url])).exitCode).toBe(0)
    writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), JSON.stringify({ quotaBytes: 1024 }))
    const status = await s.hms(['status', '--cache', url])
    expect(status.stdout).toMatch(new RegExp(`^usage {7}${url}: [\\d.]+ KiB in 30 days$`, 'm'))
    expect(status.stderr).not.toMatch(/quota/)
  })
})

describe('--notify', () => {
  it(
    'sends a desktop notification when the push ends, and says so under --verbose when notify-send ' + 'is absent',
    async () => {
      const s = sandbox()
      const bin = join(s.root, 'notify-bin')
      const record = join(s.root, 'notified')
      mkdirSync(bin)
      writeFileSync(join(bin, 'notify-send'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${record}\n`)
      chmodSync(join(bin, 'notify-send'), 0o755)
      expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
      const run = await s.hms(['push', '--notify'], { env: { PATH: `${bin}:${s.env.PATH}` } })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(readFileSync(record, 'utf8').split('\n')).toEqual([
        '--app-name=hms',
        'hms: pushed to modular-workspace',
        expect.stringMatching(/^\d+ paths, [\d.]+ KiB$/),
        '',
      ])
      const absent = await s.hms(['push', '--notify', '-v'])
      expect(absent.exitCode).toBe(0)
      expect(absent.stderr).toContain('notify-send not found: no desktop notification')
    },
  )
})

describe('hms killed outright during a switch', () => {
  it('kill -9 while cachix pushes: the next hms run queues the generation and pushes it', async () => {
    const s = sandbox()
    let pid = 0
    // The stand-in's `sleep` shows that cachix uploads (home-manager has finished).
    const running = s.hms(['--flake', '.#mitsio@shoshin'], {
      env: { CACHIX_STANDIN_PUSH_DELAY: '2' },
      onSpawn: (p) => {
        pid = p
      },
    })
    await waitFor(() => runs(s, 'sleep 2'))
    process.kill(pid, 'SIGKILL')
    await running
    const generation = s.generation()!
    expect(s.cachePaths(s.cacheDir('modular-workspace')).size).toBeLessThan(s.closure(generation.path).length)
    const next = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(next.exitCode, next.stderr).toBe(0)
    expect(next.stderr).toMatch(
      /the last switch was stopped before it finished pushing; generation 1 is queued for modular-workspace/,
    )
    expect(pending(s)).toEqual([])
    const cached = s.cachePaths(s.cacheDir('modular-workspace'))
    for (const p of s.closure(generation.path)) expect(cached.has(p), p).toBe(true)
  })
})

describe('what a user ran into', () => {
  it('a dry run is reported as a build, not a switch', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin'])).exitCode).toBe(0)
    s.setPackage('git', '2.45')
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '-n', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout).switch).toMatchObject({ ok: true, dryRun: true, generation: null })
    const text = await s.hms(['--flake', '.#mitsio@shoshin', '-n'])
    expect(text.stderr).toMatch(/✔ shoshin built in [\d.]+s \(dry run: nothing activated\)/)
    expect(s.generation()!.number).toBe(1)
  })

  it('queued paths for a cache that is gone can be dropped, and only on request', async () => {
    const s = sandbox()
    const refused = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', 'no-such-cache'])
    expect(refused.stderr).not.toMatch(/access\.!/)
    expect(refused.stderr).toMatch(/^! cachix refused to run: Binary cache no-such-cache doesn't exist/m)
    expect(pending(s).map((e) => e.cache)).toEqual(['no-such-cache'])
    const push = await s.hms(['push', '--pending'])
    expect(push.stderr).toMatch(/push to no-such-cache failed|1 path still waiting for no-such-cache/)
    expect(pending(s)).toHaveLength(1)
    const drop = await s.hms(['push', '--pending', '--drop', '--cache', 'no-such-cache'])
    expect(drop.exitCode).toBe(0)
    expect(drop.stderr).toContain('dropped 1 queued path for no-such-cache; they will not be pushed')
    expect(pending(s)).toEqual([])
    const empty = await s.hms(['push', '--pending'])
    expect(empty.stderr).toContain('the queue is empty: nothing to push')
    expect(history(s).filter((r) => r.mode === 'pending')).toHaveLength(1)
  })

  it('a failed switch does not push the queue', async () => {
    const s = sandbox()
    await s.hms(['--flake', '.#mitsio@shoshin'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    expect(pending(s)).toHaveLength(1)
    s.setFixture({ fail: true })
    const run = await s.hms(['--flake', '.#mitsio@shoshin'])
    expect(run.exitCode).not.toBe(0)
    expect(run.stderr).not.toMatch(/retrying \d+ queued path/)
    expect(pending(s)).toHaveLength(1)
  })
})
