import { describe, expect, it } from 'vitest'
import { useSandboxes } from './helpers/common.js'
import { HMS_BIN, type Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()

/** hms on a real pseudo-terminal (util-linux `script`), as a person runs it. */
async function onTerminal(s: Sandbox, columns: number, args: string) {
  return s.run('script', ['-qec', `stty cols ${columns} rows 30; node ${HMS_BIN} ${args}`, '/dev/null'], {
    env: { CI: undefined, NO_COLOR: undefined, TERM: 'xterm', CACHIX_STANDIN_PUSH_DELAY: '0.2' },
    timeoutMs: 60_000,
  })
}

describe('on a terminal', () => {
  it.each([100, 0])('shows a spinner while pushing and the summary in colour (%i columns)', async (columns) => {
    const s = sandbox()
    const run = await onTerminal(s, columns, '--flake .#mitsio@shoshin')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.stdout.length).toBeLessThan(200_000)
    if (columns > 0) expect(run.stdout).toMatch(/pushing to modular-workspace: \d+ paths?, [\d.]+ KiB/)
    expect(run.stdout).toMatch(/\u001b\[32m✔\u001b\[39m shoshin switched in [\d.]+s \(generation 1\) · pushed 9 paths/)
  })
})
