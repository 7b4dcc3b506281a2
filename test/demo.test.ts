import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useSandboxes } from './helpers/common.js'
import { REPO_ROOT } from './helpers/sandbox.js'

const sandbox = useSandboxes({ cache: false })

/** `npm run demo`'s script, its output read through a pipe (`npm run demo | cat`). */
async function demo(env: Record<string, string | undefined>) {
  const s = sandbox()
  // The demo keeps its files under the temp dir: here, the sandbox's, removed after the test.
  const script = join(REPO_ROOT, 'scripts', 'demo.js')
  return s.run(process.execPath, [script], { env: { TMPDIR: s.root, ...env }, timeoutMs: 90_000 })
}

describe('npm run demo', () => {
  it('writes no escape codes into a pipe', async () => {
    const run = await demo({ NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color' })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('\n▶ hms --flake .#mitsio@shoshin')
    expect(run.stdout).not.toContain('\u001b')
  }, 120_000)

  it('colours when FORCE_COLOR asks, as hms does', async () => {
    const run = await demo({ NO_COLOR: undefined, FORCE_COLOR: '1' })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('\u001b[1m▶ hms --flake .#mitsio@shoshin')
  }, 120_000)
})
