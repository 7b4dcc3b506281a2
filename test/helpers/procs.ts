// The processes a test started, found by a marker in their environment (/proc/PID/environ, as it was when they
// were exec'd) rather than by their command line: another test, checkout or user may run the very same command.
import { readdirSync, readFileSync } from 'node:fs'

export interface Proc {
  pid: number
  ppid: number
  /** The state letter of /proc/PID/stat: R, S, D, T (stopped)… */
  state: string
  /** argv joined by spaces, as `ps -o args` shows it. */
  args: string
}

/**
 * Running processes (this one excepted) whose environment holds one of `entries` (`NAME=value`, whole entries).
 * A zombie has no environment left, so it never counts: it runs nothing.
 */
export function processesWith(entries: string[]): Proc[] {
  const found: Proc[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    const proc = marked(Number(name), entries)
    if (proc) found.push(proc)
  }
  return found
}

function marked(pid: number, entries: string[]): Proc | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
    if (!entries.some((entry) => environ.includes(entry))) return undefined
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last `)`.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').replaceAll('\0', ' ')
    return { pid, ppid: Number(ppid), state: state!, args }
  } catch {
    // It ended while we looked (or belongs to a user whose environment we may not read: not ours).
    return undefined
  }
}
