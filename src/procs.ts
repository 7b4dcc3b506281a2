import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

/** One row of the process table. */
export interface Proc {
  pid: number
  ppid: number
  pgrp: number
  /** Foreground process group of the process's terminal (-1 without one). */
  tpgid: number
  /** Start time in clock ticks since boot; NaN where the system does not tell (no /proc). */
  start: number
  zombie: boolean
}

const linux = existsSync('/proc/self/stat')

/** Fields after `(comm)` in /proc/PID/stat, counted from `state` (field 3 of proc(5)). */
function parseStat(pid: number, text: string): Proc | undefined {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  if (f.length < 20) return undefined
  return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), tpgid: Number(f[5]), start: Number(f[19]), zombie: f[0] === 'Z' }
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

/** macOS and the BSDs have no /proc; ps gives all but the start time. */
function psTable(): Proc[] {
  try {
    const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,tpgid=,stat='], { encoding: 'utf8' })
    return text.split('\n').flatMap((line) => {
      const [pid, ppid, pgrp, tpgid, stat] = line.trim().split(/\s+/)
      return pid ? [{ pid: Number(pid), ppid: Number(ppid), pgrp: Number(pgrp), tpgid: Number(tpgid), start: NaN, zombie: Boolean(stat?.startsWith('Z')) }] : []
    })
  } catch {
    return []
  }
}

/** Now, in the unit of `Proc.start` (Linux's USER_HZ is 100 on every architecture Nix runs on). */
export function nowTicks(): number {
  if (!linux) return NaN
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100)
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

/**
 * Processes a finished child left behind: in hms's process group (children share it, so the
 * terminal's keys reach them), started since the child was (`since`), and no longer below hms
 * (orphans of the child) or below hms's parent (the other end of `hms | head`, which shares the
 * group and must live).
 */
export function stragglers(rows: Proc[], since: number): number[] {
  const self = process.pid
  const ours = rows.find((p) => p.pid === self)
  if (!ours) return []
  const protectedRoots = new Set([self, ours.ppid])
  const byPid = new Map(rows.map((p) => [p.pid, p]))
  const under = (p: Proc) => {
    for (let q: Proc | undefined = p, n = 0; q && n < 64; q = byPid.get(q.ppid), n++) {
      if (protectedRoots.has(q.ppid) && q.ppid !== 1) return true
    }
    return false
  }
  return rows
    .filter((p) => p.pgrp === ours.pgrp && p.pid !== self && !p.zombie && !(p.start < since) && !under(p))
    .map((p) => p.pid)
}
