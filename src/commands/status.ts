import { loadConfig } from '../state/config-file.js'
import { formatBytes, printable } from '../lib/format.js'
import { recoverInflightQuietly } from '../state/inflight.js'
import { currentGeneration } from '../local/generation.js'
import { lockHolder } from '../state/lock.js'
import { makePlan } from '../plan/plan.js'
import { State, type HistoryRecord } from '../state/state.js'
import { resolveTarget } from '../plan/target.js'
import { logLine } from '../state/history-line.js'
import { outputFor, type Command } from './command.js'

const day = 24 * 3600 * 1000

/** Bytes pushed per cache over the last `days` days, from history. */
export function usageByCache(history: HistoryRecord[], now: number, days = 30): Record<string, number> {
  const usage: Record<string, number> = {}
  for (const r of history) {
    if (!r.cache || now - Date.parse(r.time) > days * day) continue
    usage[r.cache] = (usage[r.cache] ?? 0) + r.bytes
  }
  return usage
}

const status: Command = async (args, io) => {
  const { options } = args
  const out = await outputFor(io, options)
  const config = await loadConfig(io.env)
  const plan = makePlan({ options, passthrough: [], config, env: io.env, hostname: io.hostname })
  const state = new State(io.env)
  await recoverInflightQuietly(state, io.env, out)
  // Read only: a damaged file is reported (on stderr and in the report), never moved or rewritten.
  const pendingRead = await state.readPending()
  const historyRead = await state.readHistory()
  for (const warning of [pendingRead.warning, historyRead.warning]) if (warning) out.warn(printable(warning))
  const damaged = [pendingRead, historyRead].flatMap((r) => (r.warning ? [r.warning] : []))
  const pending: Record<string, number> = {}
  for (const e of pendingRead.entries) pending[e.cache] = (pending[e.cache] ?? 0) + 1
  // The quota is Cachix's (free tier 5 GiB); a store URL or a cache from `caches` has none hms knows of.
  const isCachix = (cache: string) => {
    try {
      return resolveTarget(cache, config.caches, io.env.HOME).kind === 'cachix'
    } catch {
      return false
    }
  }
  const usage = usageByCache(historyRead.entries, Date.now())
  const pushing = lockHolder(state.file('push.lock')) ?? lockHolder(state.file('background.pid'))
  const switching = lockHolder(state.file('switch.lock'))
  const report = {
    profile: plan.profile ?? null,
    host: plan.host,
    cache: plan.cache ?? null,
    generation: currentGeneration(io.env) ?? null,
    pending,
    damaged,
    running: { push: pushing ?? null, switch: switching ?? null },
    recent: historyRead.entries.slice(-5),
    usage: Object.fromEntries(
      Object.entries(usage).map(([cache, bytes]) => [
        cache,
        isCachix(cache)
          ? { bytes, quotaBytes: config.quotaBytes, fraction: bytes / config.quotaBytes }
          : { bytes, quotaBytes: null, fraction: null },
      ]),
    ),
  }
  if (options.json) {
    out.json(report)
    return 0
  }
  const damage = pendingRead.unreadable ? 'the queue cannot be read' : 'the queue file has unreadable lines'
  const queueDamage = pendingRead.warning ? [`damaged     ${damage}: ${pendingRead.warning}`] : []
  const waiting = Object.entries(pending)
    .map(([c, n]) => `${n} for ${c}`)
    .join(', ')
  const nothing = pendingRead.warning ? 'nothing readable' : 'nothing waiting'
  const usageLine = ([cache, u]: [string, (typeof report.usage)[string]]) => {
    const quota = u.quotaBytes === null ? '' : ` of ${formatBytes(u.quotaBytes)}`
    const share = u.fraction === null ? '' : ` (${Math.round(u.fraction * 100)} %)`
    return `usage       ${cache}: ${formatBytes(u.bytes)}${quota} in 30 days${share}`
  }
  const lines = [
    `profile     ${report.profile ?? '(none)'} (host ${report.host})`,
    `cache       ${report.cache}`,
    `generation  ${report.generation ? `${report.generation.number}  ${report.generation.path}` : '(none found)'}`,
    `pending     ${waiting ? `${waiting} — run hms push --pending` : nothing}`,
    ...queueDamage,
    ...(historyRead.warning ? [`damaged     ${historyRead.warning}`] : []),
    ...(pushing ? [`pushing     in progress (pid ${pushing})`] : []),
    ...(switching ? [`switching   in progress (pid ${switching})`] : []),
    ...Object.entries(report.usage).map(usageLine),
    'recent runs:',
    ...(report.recent.length ? report.recent.map((r) => `  ${logLine(r)}`) : ['  none yet']),
  ]
  io.stdout.write(`${lines.map(printable).join('\n')}\n`)
  for (const [cache, u] of Object.entries(report.usage)) {
    if (u.fraction === null || u.quotaBytes === null || u.fraction < 0.8) continue
    out.warn(
      `${printable(cache)} has taken ${Math.round(u.fraction * 100)} % of its ${formatBytes(u.quotaBytes)} quota in ` +
        'the last 30 days',
    )
  }
  return 0
}

export default status
