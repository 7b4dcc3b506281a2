import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireLock, lockHolder } from '../../src/state/lock.js'
import { formatIdentity, identityOf, parseIdentity } from '../../src/lib/identity.js'
import { historyLines, historySlack, State, stateDir } from '../../src/state/state.js'

const path = (n: number) => `/nix/store/${String(n).padStart(32, 'a')}-p${n}`

function fresh(): State {
  return new State({ XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'hms-state-')) })
}

describe('state', () => {
  it('lives in $XDG_STATE_HOME/hms, else ~/.local/state/hms', () => {
    expect(stateDir({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/hms')
    expect(stateDir({ HOME: '/h' })).toBe('/h/.local/state/hms')
  })

  it('queues per cache without duplicates and dequeues only the given cache', async () => {
    const state = fresh()
    expect((await state.enqueue([path(1), path(2)], 'a', 'push failed')).added).toBe(2)
    expect((await state.enqueue([path(2), path(3)], 'a', 'push failed')).added).toBe(1)
    await state.enqueue([path(1)], 'b', 'no credentials')
    expect((await state.dequeue([path(1)], 'a')).removed).toBe(1)
    const entries = (await state.readPending()).entries
    expect(entries.map((e) => `${e.cache}:${e.path.slice(-2)}`)).toEqual(['a:p2', 'a:p3', 'b:p1'])
    expect(entries[2]!.reason).toBe('no credentials')
  })

  it('sets a damaged queue aside and keeps its good entries', async () => {
    const state = fresh()
    await state.enqueue([path(1), path(2)], 'a', 'x')
    const file = state.file('pending.jsonl')
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"path": "/nix/st\n\u0000garbage\n`)
    const read = await state.pending()
    expect(read.entries.map((e) => e.path)).toEqual([path(1), path(2)])
    expect(read.warning).toMatch(/damaged \(2 unreadable lines\).*moved the damaged file to .*pending\.jsonl\.corrupt-/)
    expect(readdirSync(state.dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1)
    expect(await state.readPending()).toEqual({ entries: read.entries })
  })

  it(
    'checks every line against its schema (state/lines.ts): a field missing or of the wrong type ' + 'is damage',
    async () => {
      const state = fresh()
      state.ensureDir()
      const entry = { path: path(1), cache: 'a', reason: 'push failed', since: '2026-01-01T00:00:00Z' }
      const run = {
        time: '2026-01-01T00:00:00Z',
        command: 'push',
        profile: null,
        cache: 'c',
        mode: 'paths',
        generation: null,
      }
      const counts = { paths: 1, bytes: 2, failed: 0, durationMs: 3, exitCode: 0 }
      const lines = (...values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join('')
      writeFileSync(
        state.file('pending.jsonl'),
        lines(
          entry,
          { ...entry, path: path(2), reason: undefined },
          { ...entry, path: path(3), target: { kind: 'store', name: 'x' } },
          { ...entry, path: path(4), cache: 7 },
          { ...entry, path: path(5), target: { kind: 'cachix', name: 'a' }, addedLater: true },
        ),
      )
      writeFileSync(
        state.file('history.jsonl'),
        lines({ ...run, ...counts }, { time: run.time, exitCode: 0 }, { ...run, ...counts, paths: '1' }),
      )
      const pending = await state.readPending()
      // A key no schema knows (a newer hms's) is dropped, the line kept.
      expect(pending.entries).toEqual([entry, { ...entry, path: path(5), target: { kind: 'cachix', name: 'a' } }])
      expect(pending.warning).toMatch(/pending\.jsonl is damaged \(3 unreadable lines\)/)
      const history = await state.readHistory()
      expect(history.entries).toEqual([{ ...run, ...counts }])
      expect(history.warning).toMatch(/history\.jsonl is damaged \(2 unreadable lines\)/)
    },
  )

  it('skips a torn last history line and starts the next record on a new line', async () => {
    const state = fresh()
    const record = {
      time: '2026-01-01T00:00:00Z',
      command: 'switch' as const,
      profile: 'p',
      cache: 'c',
      mode: 'watch-exec',
      generation: 1,
      paths: 1,
      bytes: 2,
      failed: 0,
      durationMs: 3,
      exitCode: 0,
    }
    state.appendHistory(record)
    writeFileSync(state.file('history.jsonl'), `${readFileSync(state.file('history.jsonl'), 'utf8')}{"time": "2026`)
    expect(await state.readHistory()).toEqual({ entries: [record] })
    state.appendHistory({ ...record, generation: 2 })
    const read = await state.readHistory()
    expect(read.entries.map((r) => r.generation)).toEqual([1, 2])
    // Reading history never moves or rewrites it: the torn line is reported, the file left alone.
    expect(read.warning).toMatch(/history\.jsonl is damaged \(1 unreadable line\); 2 good entries read/)
    expect(readdirSync(state.dir)).toEqual(['history.jsonl'])
  })

  it(`keeps the newest ${historyLines} runs once history passes ${historyLines + historySlack} lines`, async () => {
    const state = fresh()
    state.ensureDir()
    const record = (n: number) => ({
      time: '2026-01-01T00:00:00Z',
      command: 'push' as const,
      profile: null,
      cache: 'c',
      mode: 'pending',
      generation: n,
      paths: 0,
      bytes: 0,
      failed: 0,
      durationMs: 0,
      exitCode: 0,
    })
    const full = historyLines + historySlack
    const text = Array.from({ length: full }, (_, i) => `${JSON.stringify(record(i))}\n`).join('')
    writeFileSync(state.file('history.jsonl'), text)
    state.appendHistory(record(full))
    const kept = (await state.readHistory()).entries
    expect(kept).toHaveLength(historyLines)
    expect(kept.at(0)!.generation).toBe(full + 1 - historyLines)
    expect(kept.at(-1)!.generation).toBe(full)
  })

  it('refuses a lock held by a live process and takes over a stale one', async () => {
    const state = fresh()
    state.ensureDir()
    const file = state.file('switch.lock')
    writeFileSync(file, `${formatIdentity(identityOf(process.ppid))}\n`)
    await expect(acquireLock(file, 'switching')).rejects.toThrow(`another hms is switching (pid ${process.ppid})`)
    writeFileSync(file, '999999999\n')
    expect(lockHolder(file)).toBeUndefined()
    const lock = await acquireLock(file, 'switching')
    expect(lockHolder(file)).toBe(process.pid)
    lock.release()
    expect(lockHolder(file)).toBeUndefined()
  })

  it('a lock whose pid now belongs to another process (reused after a crash or reboot) is stale', async () => {
    const state = fresh()
    state.ensureDir()
    const file = state.file('queue.lock')
    const me = identityOf(process.ppid)
    // Same pid, another start time: the process that took the lock is gone, a new one got its pid.
    writeFileSync(file, `${formatIdentity({ ...me, start: String(Number(me.start) + 1) })}\n`)
    expect(lockHolder(file)).toBeUndefined()
    // Same pid and start, another boot.
    writeFileSync(file, `${formatIdentity({ ...me, boot: 'another-boot' })}\n`)
    expect(lockHolder(file)).toBeUndefined()
    // An old-style lock (a pid alone) held by a live process that is no hms: pid 1.
    writeFileSync(file, '1\n')
    expect(lockHolder(file)).toBeUndefined()
    const lock = await acquireLock(file, 'updating the queue')
    expect(parseIdentity(readFileSync(file, 'utf8'))).toEqual(identityOf(process.pid))
    lock.release()
  })
})
