import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { binWith, pending, runs, until, useSandboxes } from './helpers/common.js'
import { FIXTURES_BIN, type Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()
const history = (s: Sandbox) =>
  readFileSync(join(s.env.XDG_STATE_HOME!, 'hms', 'history.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))

describe('Ctrl-C after cachix watch-exec was handed the paths (issue 12 point 3)', () => {
  it(
    'what cachix pushed after its command died counts as pushed; the summary says interrupted, ' + 'not failed',
    async () => {
      const s = sandbox()
      const cache = s.cacheDir('modular-workspace')
      // home-manager activates, then lingers (news, a slow hook): the Ctrl-C comes then.
      const PATH = binWith(
        s,
        'home-manager',
        `#!/bin/sh\n${join(FIXTURES_BIN, 'home-manager')} "$@" || exit $?\nexec sleep 60\n`,
      )
      let pid = 0
      const running = s.hms(['--flake', '.#mitsio@shoshin'], {
        env: { PATH },
        onSpawn: (p) => {
          pid = p
        },
      })
      await until(() => runs(s, 'sleep 60'), 60_000)
      // What a terminal does on Ctrl-C: SIGINT to the whole foreground group.
      process.kill(-pid, 'SIGINT')
      const run = await running
      expect(run.exitCode, run.stderr).toBe(130)
      const inCache = s.cachePaths(cache)
      // cachix ignored the signal while its command ran and pushed what was built afterwards (cachix-facts.md).
      expect(inCache.size).toBeGreaterThan(5)
      expect(run.stderr).not.toMatch(/failed to push|push to \S+ failed/)
      expect(run.stderr).toMatch(
        new RegExp(`push to modular-workspace interrupted by SIGINT: pushed ${inCache.size} paths`),
      )
      expect(history(s).at(-1)).toMatchObject({ paths: inCache.size, failed: 0, exitCode: 130 })
      // Whatever the cache does not hold yet waits in the queue, never as "failed".
      for (const e of pending(s)) expect(e.reason).toMatch(/interrupted/)
    },
  )
})

describe('Ctrl-C in hms push: interrupted, queued, never "failed"', () => {
  const ctrlC = async (s: Sandbox, args: string[], env: Record<string, string>, ready: () => boolean) => {
    let pid = 0
    const running = s.hms(args, {
      env,
      onSpawn: (p) => {
        pid = p
      },
    })
    await until(ready, 60_000)
    process.kill(-pid, 'SIGINT')
    return running
  }
  const cachixPushing = (s: Sandbox) => () =>
    runs(s, 'sleep 30') &&
    s.processes().some(({ args }) => args.includes('cachix') && args.includes(' push ') && !args.includes('watch-exec'))

  it.each([
    ['during the upload', ['push'], { CACHIX_STANDIN_PUSH_DELAY: '30' }],
    ['during the upload of the queue', ['push', '--pending'], { CACHIX_STANDIN_PUSH_DELAY: '30' }],
  ])('%s', async (_, args, env) => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    if (args.includes('--pending')) {
      const queued = await s.hms(['push', '--retries', '0'], { env: { CACHIX_STANDIN_FAIL: 'network' } })
      expect(queued.exitCode, queued.stderr).toBe(0)
      expect(pending(s)).toHaveLength(1)
    }
    const run = await ctrlC(s, args, env, cachixPushing(s))
    expect(run.exitCode, run.stderr).toBe(130)
    expect(run.stderr).not.toMatch(/failed/)
    expect(run.stderr).toMatch(/push to modular-workspace interrupted by SIGINT: 1 path queued/)
    expect(pending(s).map((e) => e.path)).toEqual([s.generation()!.path])
    expect(history(s).at(-1)).toMatchObject({ command: 'push', paths: 0, failed: 0, exitCode: 130 })
  })

  // During the retry back-off: queue-safety.test.ts ('signals at any moment of the run').
})
