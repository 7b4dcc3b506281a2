import { describe, expect, it } from 'vitest'
import { descendants, stragglers, type Proc } from '../../src/procs.js'

const me = process.pid
const row = (pid: number, ppid: number, pgrp: number, start: number): Proc => ({ pid, ppid, pgrp, tpgid: pgrp, start, zombie: false })

describe('which processes are hms\'s to end', () => {
  // The shell (10) runs `hms | head -1` as group 20; hms started a child (30) at tick 500.
  const shell = row(10, 1, 10, 100)
  const hms = row(me, 10, 20, 400)
  const head = row(21, 10, 20, 400)
  const child = row(30, me, 20, 500)
  const grandchild = row(31, 30, 20, 510)
  const orphan = row(40, 1, 20, 520)
  const daemon = row(50, 1, 50, 530)
  const rows = [shell, hms, head, child, grandchild, orphan, daemon]

  it('a child and everything below it', () => {
    expect([...descendants(rows, 30)].sort()).toEqual([30, 31])
    expect(descendants(rows, 99).size).toBe(0)
  })

  it('orphans left in hms\'s group, never the other end of the pipe, hms\'s live children, or a daemon that left the group', () => {
    expect(stragglers(rows, 500)).toEqual([40])
  })

  it('nothing started before the child, even when hms was orphaned (its shell gone)', () => {
    const orphanedHms = { ...hms, ppid: 1 }
    const headOrphaned = { ...head, ppid: 1 }
    expect(stragglers([orphanedHms, headOrphaned, child, orphan], 500)).toEqual([40])
  })
})
