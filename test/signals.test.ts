import { describe, expect, it } from 'vitest'
import { noStackTrace, processes, sleep, until, useSandboxes } from './helpers/common.js'

const sandbox = useSandboxes()

describe('signals', () => {
  it.each([
    ['SIGINT', 130, 77],
    ['SIGTERM', 143, 79],
  ] as const)('%s during the build: exit %i, nothing switched, no process left behind', async (signal, code, seconds) => {
    const s = sandbox()
    const cache = `sig-${signal.toLowerCase()}-${process.pid}`
    s.cacheDir(cache)
    s.setFixture({ sleep: seconds })
    let pid = 0
    const running = s.hms(['--flake', '.#mitsio@shoshin', '--cache', cache], { onSpawn: (p) => { pid = p } })
    const ours = () => processes().filter((args) => args.includes(`sleep ${seconds}`) || args.includes(cache) || args.includes(s.flakeDir))
    await until(() => processes().some((args) => /sleep \d+$/.test(args) && args.endsWith(`sleep ${seconds}`)))
    process.kill(pid, signal)
    const run = await running
    expect(run.exitCode).toBe(code)
    expect(run.stderr).toMatch(/switch failed after [\d.]+s \(stopped by SIG(INT|TERM)\)/)
    expect(run.stderr).not.toMatch(noStackTrace)
    expect(s.generation()).toBeUndefined()
    await sleep(200)
    expect(ours()).toEqual([])
  })
})
