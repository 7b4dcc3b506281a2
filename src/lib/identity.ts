import { readFileSync } from 'node:fs'
import { errnoCode } from './errors.js'

/**
 * What tells one process from another that got the same pid later (after a crash, after a
 * reboot): its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and the boot
 * id. Written into locks and markers as `pid start boot`; without /proc (not Linux) only the pid.
 */
export interface Identity {
  pid: number
  start?: string
  boot?: string
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Start time of `pid`, or undefined when it does not exist (or /proc is absent). */
export function startTime(pid: number): string | undefined {
  const stat = read(`/proc/${pid}/stat`)
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

export function bootId(): string | undefined {
  return read('/proc/sys/kernel/random/boot_id')?.trim()
}

export function identityOf(pid: number): Identity {
  const start = startTime(pid)
  const boot = bootId()
  return { pid, ...(start ? { start } : {}), ...(boot ? { boot } : {}) }
}

export function formatIdentity(id: Identity): string {
  return [id.pid, id.start, id.boot].filter((part) => part !== undefined).join(' ')
}

export function parseIdentity(text: string): Identity | undefined {
  const [pid, start, boot] = text.trim().split(/\s+/)
  const n = Number(pid)
  if (!Number.isInteger(n) || n <= 0) return undefined
  return { pid: n, ...(start ? { start } : {}), ...(boot ? { boot } : {}) }
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoCode(error) === 'EPERM'
  }
}

/**
 * Is the process that wrote `id` still running? With a start time and boot id, only that very
 * process counts. An old-style pid alone (hms before 0.1.1) counts only when that pid is alive
 * and is an hms (bin/hms.js, or the Nix wrapper's .hms-wrapped): a reused pid (init, a shell,
 * `sleep`) is not the holder.
 */
export function isAlive(id: Identity): boolean {
  if (!exists(id.pid)) return false
  const boot = bootId()
  const start = startTime(id.pid)
  if (id.start !== undefined && start !== undefined) {
    return id.start === start && (id.boot === undefined || id.boot === boot)
  }
  const cmdline = read(`/proc/${id.pid}/cmdline`)
  return cmdline === undefined || cmdline.split('\0').some((arg) => /(^|\/)\.?hms(-wrapped|\.js)?$/.test(arg))
}
