import {
  chmodSync,
  closeSync,
  rmSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { errnoCode, ExitCode, HmsError } from '../lib/errors.js'
import type { ZodType } from 'zod'
import type { HistoryRecord, PendingEntry, QueueTarget } from './lines.js'
import { acquireLock } from './lock.js'
import type { Env } from '../lib/env.js'

export function stateDir(env: Env): string {
  return join(env.XDG_STATE_HOME || join(env.HOME ?? '', '.local', 'state'), 'hms')
}

export type { HistoryRecord, PendingEntry, QueueTarget } from './lines.js'

/**
 * History keeps the newest `historyLines` runs: when an append would pass that plus `historySlack`,
 * the file is rewritten with the newest `historyLines` (so the rewrite happens once per thousand runs).
 */
export const historyLines = 10_000
export const historySlack = 1_000

/** What reading a state file found: its entries, and a warning when a damaged file had to be set aside. */
export interface Read<T> {
  entries: T[]
  warning?: string
  /** The file exists but could not be read at all (not merely damaged lines). */
  unreadable?: boolean
}

type Added = { added: number; warning?: string }

/** The line schemas, loaded on first need (lines.ts). */
const lineSchemas = () => import('./lines.js')

/**
 * Queue lines this process wrote itself, from entries it held as checked values: read back (a push
 * enqueues, copies, then dequeues), they need no second check, and zod (tens of ms to load) is not
 * loaded for them. Any other line, another process's included, is checked.
 */
const ownLines = new Set<string>()

export class State {
  readonly dir: string

  constructor(env: Env) {
    this.dir = stateDir(env)
  }

  file(name: string): string {
    return join(this.dir, name)
  }

  /** 0700: the queue, history and log say which caches a user pushes to, and when. */
  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    // A directory left by an older hms (0755) is tightened too.
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700)
  }

  /** A file-system failure in the state dir, as the one-line error every command gives. */
  unwritable(error: unknown): unknown {
    const code = errnoCode(error)
    if (error instanceof HmsError || !code) return error
    return new HmsError(`cannot write hms's state in ${this.dir} (${code})`, {
      exitCode: ExitCode.failure,
      hint: 'hms keeps its queue, locks and history there; fix the directory or set XDG_STATE_HOME',
    })
  }

  private async queueLock(): Promise<{ release(): void }> {
    try {
      this.ensureDir()
      return await acquireLock(this.file('queue.lock'), 'updating the queue', 10_000)
    } catch (error) {
      throw this.unwritable(error)
    }
  }

  /** Short critical sections over the queue; two hms processes never rewrite it at once. */
  async withQueue<T>(change: (entries: PendingEntry[]) => T): Promise<T & { warning?: string }> {
    const lock = await this.queueLock()
    try {
      const read = await this.readPending(true)
      // Rewriting a queue that could not be read would erase it.
      if (read.unreadable)
        throw new HmsError(read.warning!, {
          exitCode: ExitCode.failure,
          hint: "fix the file's permissions; nothing was changed",
        })
      const result = change(read.entries)
      try {
        const lines = read.entries.map((e) => JSON.stringify(e))
        writeAtomic(this.file('pending.jsonl'), lines.map((l) => `${l}\n`).join(''))
        for (const line of lines) ownLines.add(line)
      } catch (error) {
        throw this.unwritable(error)
      }
      return { ...result, ...(read.warning ? { warning: read.warning } : {}) }
    } finally {
      lock.release()
    }
  }

  /** Outside the queue lock, a damaged file is reported but left for a locked reader to repair. */
  async readPending(repair = false): Promise<Read<PendingEntry>> {
    return readJsonLines(this.file('pending.jsonl'), async () => (await lineSchemas()).pendingEntrySchema, {
      repair,
      known: ownLines,
    })
  }

  /** Reads the queue under its lock, setting a damaged file aside. */
  async pending(): Promise<Read<PendingEntry>> {
    const lock = await this.queueLock()
    try {
      return this.readPending(true)
    } finally {
      lock.release()
    }
  }

  async enqueue(paths: string[], cache: string, reason: string, target?: QueueTarget): Promise<Added> {
    const since = new Date().toISOString()
    return this.withQueue((entries) => {
      const known = new Set(entries.filter((e) => e.cache === cache).map((e) => e.path))
      const fresh = [...new Set(paths)].filter((p) => !known.has(p))
      entries.push(...fresh.map((path) => ({ path, cache, reason, since, ...(target ? { target } : {}) })))
      return { added: fresh.length }
    })
  }

  async dequeue(paths: string[], cache: string): Promise<{ removed: number; warning?: string }> {
    const done = new Set(paths)
    return this.withQueue((entries) => {
      const before = entries.length
      const kept = entries.filter((e) => !(e.cache === cache && done.has(e.path)))
      entries.splice(0, entries.length, ...kept)
      return { removed: before - kept.length }
    })
  }

  /**
   * One line per run, appended and synced: a crash can tear at most the line being written. Past
   * `historyLines + historySlack` lines the file is rewritten (atomically) with the newest ones only.
   */
  appendHistory(record: HistoryRecord): void {
    this.ensureDir()
    const file = this.file('history.jsonl')
    const text = readOrEmpty(file)
    const line = `${JSON.stringify(record)}\n`
    const lines = text.split('\n').filter(Boolean)
    if (lines.length + 1 > historyLines + historySlack) {
      writeAtomic(
        file,
        lines
          .slice(-(historyLines - 1))
          .map((l) => `${l}\n`)
          .join('') + line,
      )
      return
    }
    const fd = openSync(file, 'a', 0o600)
    try {
      // After a torn last line, start on a fresh one rather than glue onto it.
      writeSync(fd, (text.length > 0 && !text.endsWith('\n') ? '\n' : '') + line)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  /** Read-only: a damaged line is skipped and reported, the file is left as it is. */
  async readHistory(): Promise<Read<HistoryRecord>> {
    return readJsonLines(this.file('history.jsonl'), async () => (await lineSchemas()).historyRecordSchema, {
      tolerateTornTail: true,
    })
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return ''
    throw error
  }
}

/** Temp file, fsync, rename in the same directory: a crash leaves the old file or the new one, never half. */
export function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`
  try {
    const fd = openSync(temp, 'w', 0o600)
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, file)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

/**
 * Reads a JSON-lines file. A line that does not parse means damage: the file is renamed aside
 * (never deleted) and the good lines are kept, so one bad write never costs the other entries.
 */
async function readJsonLines<T>(
  file: string,
  schema: () => Promise<ZodType<T>>,
  options: { tolerateTornTail?: boolean; repair?: boolean; known?: ReadonlySet<string> } = {},
): Promise<Read<T>> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { entries: [] }
    return { entries: [], warning: `cannot read ${file}: ${errnoCode(error) ?? error}`, unreadable: true }
  }
  const lines = text.split('\n')
  const entries: T[] = []
  let bad = 0
  // zod costs tens of milliseconds to load: an empty queue (the usual case) never needs it, nor lines
  // this process wrote itself.
  const known = options.known ?? new Set<string>()
  const valid = lines.some((line) => line.trim() && !known.has(line)) ? await schema() : undefined
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue
    if (known.has(line)) {
      entries.push(JSON.parse(line) as T)
      continue
    }
    const parsed = valid?.safeParse(parseLine(line))
    if (parsed?.success) entries.push(parsed.data)
    else if (!(options.tolerateTornTail && i === lines.length - 1)) bad++
  }
  if (bad === 0) return { entries }
  const damage = `${file} is damaged (${bad} unreadable line${bad === 1 ? '' : 's'})`
  if (!options.repair) return { entries, warning: `${damage}; ${entries.length} good entries read` }
  const aside = `${file}.corrupt-${Date.now()}`
  try {
    renameSync(file, aside)
    writeAtomic(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
  } catch {}
  return { entries, warning: `${damage}; kept ${entries.length} good entries and moved the damaged file to ${aside}` }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}
