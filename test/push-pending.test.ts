// `hms push --pending` as a new user met it: queue text with escapes, several caches at once,
// and --json in every form (issues 9 and 10), end to end with the stand-ins.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dropDocumentSchema, pushPlanSchema } from '../src/plan/schema.js'
import { pending, summaryOf, useSandboxes } from './helpers/common.js'
import { HMS_BIN, type Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()
const stateDir = (s: Sandbox) => join(s.env.XDG_STATE_HOME!, 'hms')
const queueFile = (s: Sandbox) => join(stateDir(s), 'pending.jsonl')
const evil = 'evil\u001b[31mRED'
const ESC = '\u001b'

function writeQueue(s: Sandbox, entries: { path: string; cache: string }[]): void {
  mkdirSync(stateDir(s), { recursive: true })
  const line = (e: { path: string; cache: string }) =>
    JSON.stringify({ ...e, reason: 'r', since: '2026-01-01T00:00:00Z' })
  writeFileSync(queueFile(s), `${entries.map(line).join('\n')}\n`)
}

/** A generation built and not pushed, so its paths can be queued by hand. */
async function unpushedGeneration(s: Sandbox): Promise<string> {
  const run = await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])
  expect(run.exitCode, run.stderr).toBe(0)
  return s.generation()!.path
}

describe('text read back from the queue never drives the terminal', () => {
  it(
    'a cache name with an escape: refused with escapes only, ' + 'and the --drop hint typed in bash forgets it',
    async () => {
      const s = sandbox()
      writeQueue(s, [{ path: `/nix/store/${'a'.repeat(32)}-x`, cache: evil }])
      const run = await s.hms(['push', '--pending'])
      expect(run.exitCode).toBe(1)
      expect(run.stderr).toContain('1 queued path for evil\\x1b[31mRED not pushed: cache "evil\\x1b[31mRED"')
      expect(run.stderr).not.toContain(ESC)
      const hint = /to forget them: (hms push .*)$/m.exec(run.stderr)?.[1]
      expect(hint).toBe("hms push --pending --drop --cache $'evil\\x1b[31mRED'")
      const typed = spawnSync('bash', ['-c', hint!.replace(/^hms /, `'${process.execPath}' '${HMS_BIN}' `)], {
        env: s.env,
        encoding: 'utf8',
      })
      expect(typed.status, typed.stderr).toBe(0)
      expect(typed.stderr).toContain('dropped 1 queued path for evil\\x1b[31mRED')
      expect(pending(s)).toEqual([])
    },
  )
})

describe('a queue for several caches', () => {
  it('the summary, --json and hms log name every cache, never "null"', async () => {
    const s = sandbox()
    const both = ['modular-workspace', 'other']
    for (const c of both) s.cacheDir(c)
    const generation = await unpushedGeneration(s)
    writeQueue(
      s,
      both.map((cache) => ({ path: generation, cache })),
    )
    const run = await s.hms(['push', '--pending'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/✔ pushed \d+ paths, .* → modular-workspace, other \[pending\]/)
    expect(run.stderr).not.toContain('null')
    for (const c of both) expect(s.cachePaths(s.cacheDir(c))).toEqual(new Set(s.closure(generation)))
    expect((await s.hms(['log'])).stdout).toMatch(/push .* → modular-workspace, other in .* exit 0$/m)

    writeQueue(
      s,
      both.map((cache) => ({ path: generation, cache })),
    )
    const json = await s.hms(['push', '--pending', '--json'])
    expect(json.exitCode, json.stderr).toBe(0)
    expect(summaryOf(json.stdout)).toMatchObject({ cache: null, caches: both, mode: 'pending', exitCode: 0 })
    const history = readFileSync(join(stateDir(s), 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(history.at(-1)).toMatchObject({ command: 'push', cache: null, caches: both })
  })

  it('a failed push to several caches says which, and they stay queued', async () => {
    const s = sandbox()
    const both = ['modular-workspace', 'other']
    for (const c of both) s.cacheDir(c)
    const generation = await unpushedGeneration(s)
    writeQueue(
      s,
      both.map((cache) => ({ path: generation, cache })),
    )
    const run = await s.hms(['push', '--pending', '--retries', '0'], { env: { CACHIX_STANDIN_FAIL: 'network' } })
    expect(run.stderr).toContain('push to modular-workspace, other failed [pending]')
    expect(run.stderr).toContain('queued for modular-workspace, other;')
    expect(run.stderr).not.toContain('null')
    expect(pending(s)).toHaveLength(2)
  })
})

describe('every push --pending form prints one JSON document under --json', () => {
  it('an empty queue: a pending summary naming no cache', async () => {
    const s = sandbox()
    const run = await s.hms(['push', '--pending', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout)).toMatchObject({
      mode: 'pending',
      cache: null,
      caches: [],
      exitCode: 0,
      push: { attempted: false },
    })
  })

  it('only refused entries: the summary with exit 1 and why', async () => {
    const s = sandbox()
    writeQueue(s, [{ path: `/nix/store/${'a'.repeat(32)}-x`, cache: evil }])
    const run = await s.hms(['push', '--pending', '--json'])
    expect(run.exitCode).toBe(1)
    const summary = summaryOf(run.stdout)
    expect(summary).toMatchObject({ mode: 'pending', exitCode: 1 })
    expect(summary.push.skippedReason).toMatch(/1 queued path refused/)
  })

  it('--drop and --drop --plan: what is (or would be) dropped; --plan drops nothing', async () => {
    const s = sandbox()
    const generation = await unpushedGeneration(s)
    const entries = [
      { path: generation, cache: 'modular-workspace' },
      { path: generation, cache: 'other' },
    ]
    writeQueue(s, entries)
    const before = readFileSync(queueFile(s), 'utf8')
    const plan = await s.hms(['push', '--pending', '--drop', '--plan', '--json'])
    expect(plan.exitCode, plan.stderr).toBe(0)
    expect(dropDocumentSchema.parse(JSON.parse(plan.stdout))).toMatchObject({
      plan: true,
      cache: null,
      dropped: entries,
    })
    expect(readFileSync(queueFile(s), 'utf8')).toBe(before)
    const one = await s.hms(['push', '--pending', '--drop', '--cache', 'other', '--json'])
    expect(one.exitCode, one.stderr).toBe(0)
    expect(dropDocumentSchema.parse(JSON.parse(one.stdout))).toEqual({
      version: expect.any(String),
      plan: false,
      cache: 'other',
      dropped: [entries[1]],
      exitCode: 0,
    })
    expect(pending(s)).toMatchObject([entries[0]])
    const all = await s.hms(['push', '--pending', '--drop', '--json'])
    expect(dropDocumentSchema.parse(JSON.parse(all.stdout)).dropped).toEqual([entries[0]])
    expect(pending(s)).toEqual([])
  })

  it('--plan: what each push would run, per cache, and the queue untouched', async () => {
    const s = sandbox()
    const generation = await unpushedGeneration(s)
    writeQueue(s, [
      { path: generation, cache: 'modular-workspace' },
      { path: generation, cache: 'other' },
    ])
    const before = readFileSync(queueFile(s), 'utf8')
    const run = await s.hms(['push', '--pending', '--plan', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    const { pushes } = pushPlanSchema.parse(JSON.parse(run.stdout))
    expect(pushes.map((p) => [p.cache, p.paths, p.command.slice(0, 2)])).toEqual([
      ['modular-workspace', [generation], ['cachix', 'push']],
      ['other', [generation], ['cachix', 'push']],
    ])
    expect(readFileSync(queueFile(s), 'utf8')).toBe(before)
    const paths = await s.hms(['push', '--plan', '--json', generation])
    expect(pushPlanSchema.parse(JSON.parse(paths.stdout)).pushes).toMatchObject([
      { cache: 'modular-workspace', paths: [generation] },
    ])
  })
})
