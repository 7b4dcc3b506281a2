import { describe, expect, it } from 'vitest'
import { descendants, stragglers, type Proc } from '../../src/lib/process-table.js'

const me = process.pid
const row = (pid: number, ppid: number, pgrp: number): Proc => ({ pid, ppid, pgrp, tpgid: pgrp, zombie: false })

describe("which processes are hms's to end", () => {
  // The shell (10) runs `hms | head -1` as group 20; hms's child (30, marker "run") started 31 and
  // an orphan (40); a daemon (50) left the group; a test runner's worker (60) shares the group.
  const rows = [
    row(10, 1, 10),
    row(me, 10, 20),
    row(21, 10, 20),
    row(30, me, 20),
    row(31, 30, 20),
    row(40, 1, 20),
    row(50, 1, 50),
    row(60, 5, 20),
  ]
  const marked = new Set([30, 31, 40, 50])
  const has = (pid: number, marker: string) => marker === 'run' && marked.has(pid)

  it('a child and everything below it', () => {
    expect([...descendants(rows, 30)].sort()).toEqual([30, 31])
    expect(descendants(rows, 99).size).toBe(0)
  })

  it('what carries the marker in its group: not the other end of the pipe, a neighbour, a daemon that left', () => {
    expect(stragglers(rows, 'run', has).sort()).toEqual([30, 31, 40])
    expect(stragglers(rows, 'another run', has)).toEqual([])
  })

  it('zombies are left to their parent', () => {
    const reaped = rows.map((p) => (p.pid === 40 ? { ...p, zombie: true } : p))
    expect(stragglers(reaped, 'run', has).sort()).toEqual([30, 31])
  })
})
