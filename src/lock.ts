import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { HmsError } from './errors.js'

export interface Lock {
  release(): void
}

/** Pid in a lock file, if the process is still alive; a lock left by a killed hms is stale. */
export function lockHolder(file: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(file, 'utf8').trim())
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}

function tryLock(file: string): Lock | number {
  for (;;) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      let held = true
      const release = () => {
        if (!held) return
        held = false
        process.off('exit', release)
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file)
        } catch {}
      }
      process.on('exit', release)
      return { release }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = lockHolder(file)
      if (holder !== undefined && holder !== process.pid) return holder
      try {
        unlinkSync(file)
      } catch {}
    }
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
