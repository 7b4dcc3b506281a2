import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { HmsError } from './errors.js'

export interface Lock {
  release(): void
}

/** Pid in a lock file, if the process is still alive; a lock left by a killed hms is stale. */
export function lockHolder(file: string): number | undefined {
  const text = readQuietly(file)
  return text === undefined ? undefined : liveHolder(text)
}

/** The pid a lock's text names, if that process is alive. */
function liveHolder(text: string): number | undefined {
  const pid = Number(text.trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}

/**
 * The lock file appears whole or not at all (hard link of a file that already holds our pid), so a
 * reader never sees it empty. A stale one is moved aside before it is removed, and only if what was
 * moved is still the stale content, so two takers never both win.
 */
function tryLock(file: string): Lock | number {
  const mine = `${file}.${process.pid}.new`
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 })
  try {
    for (;;) {
      try {
        linkSync(mine, file)
        return holdLock(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const seen = readQuietly(file)
      if (seen === undefined) continue
      // Judged on the text just read: a lock released and taken again meanwhile is not "stale".
      const holder = liveHolder(seen)
      if (holder !== undefined && holder !== process.pid) return holder
      removeIfStill(file, seen)
    }
  } finally {
    rmSync(mine, { force: true })
  }
}

function holdLock(file: string): Lock {
  let held = true
  const release = () => {
    if (!held) return
    held = false
    process.off('exit', release)
    if (readQuietly(file)?.trim() === String(process.pid)) rmSync(file, { force: true })
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

/** Takes `file` as a lock, waiting up to `waitMs`; past that, says who holds it. */
export async function acquireLock(file: string, what: string, waitMs = 0): Promise<Lock> {
  const deadline = Date.now() + waitMs
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const got = tryLock(file)
    if (typeof got !== 'number') return got
    if (Date.now() >= deadline) {
      throw new HmsError(`another hms is ${what} (pid ${got})`, { exitCode: 1, hint: 'wait for it to finish, or see hms status' })
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}
