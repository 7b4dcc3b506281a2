import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { makeSandbox, type Sandbox } from './helpers/sandbox.js'

const sandboxes: Sandbox[] = []
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup()
})

/** Command lines of every process on the machine. */
const processes = () => execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).split('\n')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(50)
  }
}

describe('signals', () => {
  it.each([
    ['SIGINT', 130, 77],
    ['SIGTERM', 143, 79],
  ] as const)('%s during the build: exit %i, nothing switched, no process left behind', async (signal, code, seconds) => {
    const s = makeSandbox()
    sandboxes.push(s)
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
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    expect(s.generation()).toBeUndefined()
    await sleep(200)
    expect(ours()).toEqual([])
  })
})
