import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

/** One row of the process table. */
export interface Proc {
  pid: number
  ppid: number
  pgrp: number
  /** Foreground process group of the process's terminal (-1 without one). */
  tpgid: number
  zombie: boolean
}

const linux = existsSync('/proc/self/stat')

/** Fields after `(comm)` in /proc/PID/stat, counted from `state` (field 3 of proc(5)). */
function parseStat(pid: number, text: string): Proc | undefined {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  if (f.length < 20) return undefined
  return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), tpgid: Number(f[5]), zombie: f[0] === 'Z' }
}

export function procOf(pid: number): Proc | undefined {
  if (!linux) return table().find((p) => p.pid === pid)
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** Every process on the machine (those that vanish while read are left out). */
export function table(): Proc[] {
  if (!linux) return psTable()
  const rows: Proc[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const row = procOf(Number(name))
    if (row) rows.push(row)
  }
  return rows
}

/** macOS and the BSDs have no /proc; ps gives the same columns. */
function psTable(): Proc[] {
  try {
    const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,tpgid=,stat='], { encoding: 'utf8' })
    return text.split('\n').flatMap((line) => {
      const [pid, ppid, pgrp, tpgid, stat] = line.trim().split(/\s+/)
      if (!pid) return []
      const zombie = Boolean(stat?.startsWith('Z'))
      return [{ pid: Number(pid), ppid: Number(ppid), pgrp: Number(pgrp), tpgid: Number(tpgid), zombie }]
    })
  } catch {
    return []
  }
}

/** `root` and everything below it that is still running. */
export function descendants(rows: Proc[], root: number): Set<number> {
  const children = new Map<number, number[]>()
  for (const p of rows) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid])
  const found = new Set<number>()
  const queue = rows.some((p) => p.pid === root) ? [root] : []
  while (queue.length) {
    const pid = queue.pop()!
    if (found.has(pid)) continue
    found.add(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return found
}

/** The variable each long-running child gets, with a value of its own, and passes on to all it starts. */
export const markerVariable = 'HMS_RUN'

/** Does `pid` carry `marker` in its environment? Only /proc tells (elsewhere: never, so nothing is ended). */
export function carries(pid: number, marker: string): boolean {
  if (!linux) return false
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${markerVariable}=${marker}`)
  } catch {
    return false
  }
}

/**
 * What a child left running in hms's process group (children share it, so that the terminal's keys
 * reach them): the processes there that inherited the child's marker. Never the other end of
 * `hms | head`, nor anything else that merely shares the group (a script's other commands, a test
 * runner's workers), as those never had the marker.
 */
export function stragglers(rows: Proc[], marker: string, has: typeof carries = carries): number[] {
  const ours = rows.find((p) => p.pid === process.pid)
  if (!ours) return []
  const left = rows.filter((p) => p.pgrp === ours.pgrp && p.pid !== ours.pid && !p.zombie && has(p.pid, marker))
  return left.map((p) => p.pid)
}
