import { describe, expect, it } from 'vitest'
import { noStackTrace, nothingLeft, runs, until, useSandboxes } from './helpers/common.js'

const sandbox = useSandboxes()

describe('signals', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during the build: exit %i, nothing switched, no process left behind', async (signal, code) => {
    const s = sandbox()
    s.setFixture({ sleep: 30 })
    let pid = 0
    const running = s.hms(['--flake', '.#mitsio@shoshin'], {
      onSpawn: (p) => {
        pid = p
      },
    })
    await until(() => runs(s, '/bin/sleep 30'))
    process.kill(pid, signal)
    const run = await running
    expect(run.exitCode).toBe(code)
    expect(run.stderr).toMatch(/switch failed after [\d.]+s \(stopped by SIG(INT|TERM)\)/)
    expect(run.stderr).not.toMatch(noStackTrace)
    expect(s.generation()).toBeUndefined()
    await nothingLeft(s)
  })
})
