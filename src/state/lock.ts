import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { errnoCode, HmsError, signalExitCode } from '../lib/errors.js'
import { pause } from '../lib/interrupt.js'
import { formatIdentity, identityOf, isAlive, parseIdentity } from '../lib/identity.js'

export interface Lock {
  release(): void
}

/** Pid in a lock (or pid) file, if that very process is still running; a lock left by a killed hms is stale. */
export function lockHolder(file: string): number | undefined {
  const text = readQuietly(file)
  return text === undefined ? undefined : liveHolder(text)
}

/** The pid a lock's text names, if that process (same pid, same start, same boot) is alive. */
function liveHolder(text: string): number | undefined {
  const id = parseIdentity(text)
  return id && isAlive(id) ? id.pid : undefined
}

const mine = () => `${formatIdentity(identityOf(process.pid))}\n`

/**
 * The lock file appears whole or not at all (hard link of a file that already holds our
 * identity), so a reader never sees it empty. A stale one is moved aside before it is removed,
 * and only if what was moved is still the stale content, so two takers never both win.
 */
function tryLock(file: string): Lock | number {
  const temp = `${file}.${process.pid}.new`
  const text = mine()
  try {
    // Inside the try: a write that fails halfway (a full disk) must not leave the temp file behind.
    writeFileSync(temp, text, { mode: 0o600 })
    for (;;) {
      try {
        linkSync(temp, file)
        return holdLock(file, text)
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error
      }
      const seen = readQuietly(file)
      if (seen === undefined) continue
      // Judged on the text just read: a lock released and taken again meanwhile is not "stale".
      const holder = liveHolder(seen)
      if (holder !== undefined && holder !== process.pid) return holder
      removeIfStill(file, seen)
    }
  } finally {
    rmSync(temp, { force: true })
  }
}

function holdLock(file: string, text: string): Lock {
  let held = true
  const release = () => {
    if (!held) return
    held = false
    process.off('exit', release)
    if (readQuietly(file) === text) rmSync(file, { force: true })
  }
  process.on('exit', release)
  return { release }
}

function removeIfStill(file: string, stale: string): void {
  const aside = `${file}.${process.pid}.stale`
  try {
    renameSync(file, aside)
  } catch {
    return
  }
  // Someone took the lock between our read and the rename: give it back.
  if (readQuietly(aside) !== stale) {
    try {
      linkSync(aside, file)
    } catch {}
  }
  rmSync(aside, { force: true })
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Takes `file` as a lock, waiting up to `waitMs`; past that, says who holds it and how to clear it. */
export async function acquireLock(file: string, what: string, waitMs = 0): Promise<Lock> {
  const deadline = Date.now() + waitMs
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const got = tryLock(file)
    if (typeof got !== 'number') return got
    if (Date.now() >= deadline) {
      throw new HmsError(`another hms is ${what} (pid ${got})`, {
        exitCode: 1,
        hint: `wait for it to finish, or see hms status; if pid ${got} is no hms, remove ${file}`,
      })
    }
    const signal = await pause(delay)
    if (signal) {
      const message = `interrupted by ${signal} while waiting for another hms (${what}); nothing was changed`
      throw new HmsError(message, { exitCode: signalExitCode(signal) ?? 130, signal })
    }
  }
}
