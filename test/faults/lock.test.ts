import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'

const lockCases = { processes: 10, entriesEach: 20 }

describe('the queue under contention', () => {
  it(`${lockCases.processes} processes enqueueing at once lose no entry and leave valid JSON lines`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-lock-'))
    const bundle = join(dir, 'state.mjs')
    await build({
      entryPoints: [join(import.meta.dirname, '../../src/state/state.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'error',
    })
    const worker = join(dir, 'worker.mjs')
    writeFileSync(
      worker,
      `import { State } from './state.mjs'
const [home, id] = process.argv.slice(2)
const state = new State({ XDG_STATE_HOME: home })
for (let i = 0; i < ${lockCases.entriesEach}; i++) {
  const path = '/nix/store/' + id.padStart(16, 'a') + String(i).padStart(16, 'b') + '-p'
  await state.enqueue([path], 'c', 'r')
}
`,
    )
    const runs = Array.from({ length: lockCases.processes }, (_, i) =>
      execa(process.execPath, [worker, dir, String(i)], { reject: false }),
    )
    for (const run of await Promise.all(runs)) expect(run.exitCode, run.stderr).toBe(0)
    const lines = readFileSync(join(dir, 'hms', 'pending.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
    expect(lines.map((l) => JSON.parse(l).path).sort()).toHaveLength(lockCases.processes * lockCases.entriesEach)
    expect(new Set(lines).size).toBe(lines.length)
  }, 60_000)
})
