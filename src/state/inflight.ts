import { linkSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { currentGeneration } from '../local/generation.js'
import { formatIdentity, identityOf, isAlive, parseIdentity } from '../lib/identity.js'
import type { Output } from '../ui/output.js'
import { markerVariable } from '../lib/process-table.js'
import { messageOf } from '../lib/errors.js'
import { printable } from '../lib/format.js'
import type { QueueTarget, State } from './state.js'
import type { Env } from '../lib/env.js'

/**
 * hms killed outright (kill -9, power loss) mid-switch cannot queue what it was pushing. It leaves
 * this marker instead, naming itself (pid, start time, boot id). Any later hms that reads state
 * (a switch, push, status, log, doctor) and finds the marker's owner gone queues the current
 * generation's closure for that cache: the push is late but never lost, and never invisible.
 */
const marker = (state: State) => state.file('switch.inflight')

interface Marker {
  cache: string
  target?: QueueTarget
  owner?: string
  /** Markers from before owners were recorded by identity. */
  pid?: number
  since: string
}

export function markInflight(state: State, cache: string, target?: QueueTarget): void {
  const owner = formatIdentity(identityOf(process.pid))
  const text = JSON.stringify({ cache, ...(target ? { target } : {}), owner, since: new Date().toISOString() })
  try {
    writeFileSync(marker(state), text, { mode: 0o600 })
  } catch {}
}

/** Removes our own marker (the run has queued or pushed everything itself). */
export function clearInflight(state: State): void {
  const text = read(marker(state))
  if (text !== undefined && ownerOf(text)?.pid === process.pid) removeIfUnchanged(marker(state), text)
}

export async function recoverInflight(state: State, env: Env, out: Output): Promise<void> {
  const file = marker(state)
  const text = read(file)
  if (text === undefined) return
  const owner = ownerOf(text)
  // A switch still running (or this very run) owns its marker.
  if (owner && (owner.pid === process.pid || isAlive(owner))) return
  // Its children may outlive it (kill -9 of hms alone) and still link the generation: wait for them.
  const left = owner ? childrenOf(owner.pid) : []
  if (left.length > 0) {
    out.warn(
      `a stopped switch's processes are still running (pid ${left.join(', ')}); ` +
        'what they build is queued once they end',
    )
    return
  }
  const parsed = parse(text)
  const generation = currentGeneration(env)
  if (parsed && generation) {
    await state.enqueue([generation.path], parsed.cache, 'hms was stopped during a switch', parsed.target)
    const where = printable(parsed.cache)
    const what = `generation ${generation.number}`
    out.warn(`the last switch was stopped before it finished pushing; ${what} is queued for ${where}`)
  }
  removeIfUnchanged(file, text)
}

function parse(text: string): Marker | undefined {
  try {
    const value = JSON.parse(text) as Marker
    return typeof value?.cache === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

function ownerOf(text: string) {
  const m = parse(text)
  return m?.owner ? parseIdentity(m.owner) : typeof m?.pid === 'number' ? parseIdentity(String(m.pid)) : undefined
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Another switch may have written its own marker meanwhile: that one stays. */
function removeIfUnchanged(file: string, text: string): void {
  const aside = `${file}.${process.pid}.old`
  try {
    renameSync(file, aside)
  } catch {
    return
  }
  if (read(aside) !== text) {
    try {
      linkSync(aside, file)
    } catch {}
  }
  rmSync(aside, { force: true })
}

/** For commands that only read state: a marker that cannot be turned into entries costs a warning. */
export async function recoverInflightQuietly(state: State, env: Env, out: Output): Promise<void> {
  try {
    await recoverInflight(state, env, out)
  } catch (error) {
    out.warn(`could not queue what a stopped switch left unpushed: ${messageOf(state.unwritable(error))}`)
  }
}

/** Processes started by the hms with this pid: they inherit its `HMS_RUN=<pid>.<n>` (proc.ts). */
function childrenOf(pid: number): number[] {
  const prefix = `${markerVariable}=${pid}.`
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return []
  }
  return names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'latin1')
          .split('\0')
          .some((v) => v.startsWith(prefix))
      } catch {
        return false
      }
    })
}
