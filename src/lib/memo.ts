import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Env } from './env.js'

/**
 * Small facts hms already worked out, kept in `$XDG_CACHE_HOME/hms/` to spare the next start the
 * work. A cache, nothing more: unreadable or unwritable only costs the next run the work again.
 */
export function memo(env: Env, name: string): { get(): string | undefined; set(value: string): void } {
  const dir = env.XDG_CACHE_HOME || (env.HOME && join(env.HOME, '.cache'))
  const file = dir ? join(dir, 'hms', name) : undefined
  return {
    get() {
      try {
        return file ? readFileSync(file, 'utf8') : undefined
      } catch {
        return undefined
      }
    },
    set(value) {
      if (!file) return
      try {
        // Private, as hms's state is: a fingerprint of a config that holds credentials is the user's alone.
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
        writeFileSync(file, value, { mode: 0o600 })
        chmodSync(file, 0o600)
      } catch {}
    },
  }
}
