import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { currentGeneration } from './generation.js'
import type { Output } from './output.js'
import type { State } from './state.js'

type Env = Record<string, string | undefined>

/**
 * hms killed outright (kill -9, power loss) mid-switch cannot queue what it was pushing. It leaves
 * this marker instead; the next switch, holding the same lock, finds it and queues the current
 * generation's closure for that cache, so the push is late but never lost.
 */
const marker = (state: State) => state.file('switch.inflight')

export function markInflight(state: State, cache: string): void {
  try {
    writeFileSync(marker(state), JSON.stringify({ cache, pid: process.pid, since: new Date().toISOString() }), { mode: 0o600 })
  } catch {}
}

export function clearInflight(state: State): void {
  try {
    rmSync(marker(state), { force: true })
  } catch {}
}

export async function recoverInflight(state: State, env: Env, out: Output): Promise<void> {
  let cache: string | undefined
  try {
    cache = (JSON.parse(readFileSync(marker(state), 'utf8')) as { cache?: unknown }).cache as string | undefined
  } catch {
    return
  }
  const generation = currentGeneration(env)
  if (typeof cache === 'string' && generation) {
    await state.enqueue([generation.path], cache, 'hms was stopped during a switch')
    out.warn(`the last switch was stopped before it finished pushing; generation ${generation.number} is queued for ${cache}`)
  }
  clearInflight(state)
}
