import { spawnBackgroundPush } from './background.js'
import { errnoCode, ExitCode, messageOf, signalExitCode } from '../lib/errors.js'
import { interruption } from '../lib/interrupt.js'
import { plural } from '../lib/format.js'
import type { Generation } from '../local/generation.js'
import type { Plan } from '../plan/plan.js'
import { pushWithRetries, requestFor, type PushResult } from '../backends/push.js'
import type { Summary } from '../plan/schema.js'
import type { PendingEntry, State } from '../state/state.js'
import type { Context } from './context.js'
import { total, withSizes } from './outcome.js'
import { acquireLock, type Lock } from '../state/lock.js'
import { queueTarget, sameTarget } from '../state/queue-target.js'

interface After {
  after?: Generation
  /** The push could not happen at all (cachix missing, no credentials, refused). */
  blocked: boolean
  /** The signal that interrupted the run, if one did. */
  interrupted?: string
  /** cachix died before it could report every path it was to push. */
  cachixDied?: boolean
  /** The cache refused the push for good (signature, credentials): said once, not retried. */
  refused?: string
}

/**
 * After the switch: retry what failed, push the generation in generation mode, queue whatever is
 * still not in the cache, retry the queue, and record the run. Nothing built is ever dropped.
 */
export async function settle(
  summary: Summary,
  plan: Plan,
  ctx: Context,
  state: State,
  { after, blocked, interrupted, cachixDied, refused }: After,
): Promise<Summary> {
  const s = structuredClone(summary)
  // A generation made current by an activation that then failed still holds what was built: push it.
  const built = Boolean(s.switch && (s.switch.ok || s.switch.generation !== null))
  if (plan.push && plan.cache && built && !blocked && !interrupted) {
    if (plan.mode === 'generation' && after) await pushGeneration(s, plan, ctx, state, after)
    else if (s.push.failed.length > 0 && plan.retries > 0 && !refused) await retryFailures(s, plan, ctx)
  }
  // A signal during the back-off or between children counts as much as one during the switch.
  const stopped = interrupted ?? interruption()
  if (plan.push && plan.cache) {
    // Blocked, interrupted or cut short after the link: the generation's closure covers whatever cachix never reported.
    // A confirmed generation needs no queueing: it was pushed with its closure.
    const wholeGeneration =
      (blocked || stopped || cachixDied) && after && built && !s.push.pushed.some((p) => p.path === after.path)
    // s.push.queued holds, so far, what an interruption left unconfirmed (tally.ts, applyPush).
    const owed = [...s.push.failed, ...s.push.queued]
    const queue = [...new Set(wholeGeneration ? [...owed, after.path] : owed)]
    const reason = blocked
      ? (s.push.skippedReason ?? 'push skipped')
      : stopped
        ? 'interrupted'
        : (refused ?? 'push failed')
    const why = plan.credentialsNote ? `${reason}; ${plan.credentialsNote}` : reason
    s.push.queued = queue.length > 0 ? await enqueue(state, queue, plan, why, ctx) : []
    const clean = s.switch?.ok && !blocked && !stopped && s.push.queued.length === 0 && s.background === null
    if (clean) await retryQueue(s, plan, ctx, state)
    else await announcePending(plan.cache, ctx, state, s.push.queued.length + (s.background ? 1 : 0))
  }
  if (stopped && s.exitCode === ExitCode.ok) s.exitCode = signalExitCode(stopped) ?? ExitCode.interrupted
  applyStrict(s, plan.strict)
  record(s, state, ctx)
  return s
}

async function pushGeneration(s: Summary, plan: Plan, ctx: Context, state: State, after: Generation): Promise<void> {
  s.push.attempted = true
  if (plan.background) {
    // Queued before the detached push starts: if it dies at once (logout), the generation still waits.
    const queued = (await enqueue(state, [after.path], plan, 'pushing in the background', ctx)).length > 0
    try {
      s.background = spawnBackgroundPush(ctx, state, plan, [after.path], plan.notify)
      return
    } catch (error) {
      ctx.out.warn(`could not start a background push (${errnoCode(error) ?? messageOf(error)}); pushing now instead`)
    }
    const result = await pushWithRetries(requestFor(plan, [after.path]), ctx)
    await applyPush(s, result, [after.path], ctx)
    if (result.ok && queued) await state.dequeue([after.path], plan.cache!).catch(() => {})
    return
  }
  const result = await pushWithRetries(requestFor(plan, [after.path]), ctx)
  await applyPush(s, result, [after.path], ctx)
}

async function retryFailures(s: Summary, plan: Plan, ctx: Context): Promise<void> {
  const roots = s.push.failed
  const result = await pushWithRetries(requestFor(plan, roots), ctx, true)
  s.push.failed = []
  await applyPush(s, result, roots, ctx)
  if (result.outcome.interrupted) s.push.queued.push(...roots.filter((p) => !s.push.queued.includes(p)))
  if (!result.ok) return
  // These were missing when the switch began (cachix set out to push them) and are in the cache now.
  const known = new Set(s.push.pushed.map((p) => p.path))
  s.push.pushed.push(
    ...(await withSizes(
      roots.filter((p) => !known.has(p)),
      undefined,
      ctx.env,
    )),
  )
  s.push.bytes = total(s.push.pushed)
}

/**
 * `--strict`: a run that otherwise succeeded exits 3 when paths are still unpushed. Decided once,
 * after the retries: a push that failed at first but went through on retry is no failure.
 */
export function applyStrict(s: Summary, strict: boolean): void {
  if (strict && s.exitCode === ExitCode.ok && s.push.failed.length > 0) s.exitCode = ExitCode.pushFailed
}

/**
 * Folds a `cachix push` of `roots` into the summary: on success the roots are in the cache, whatever cachix
 * re-uploaded.
 */
export async function applyPush(s: Summary, result: PushResult, roots: string[], ctx: Context): Promise<void> {
  s.push.alreadyPresent += result.alreadyPresent
  for (const p of result.tally.excluded) if (!s.push.excluded.includes(p)) s.push.excluded.push(p)
  if (!result.ok && result.outcome.interrupted) {
    // Cut short, not refused: what the pusher saw land counts; the caller queues the roots (issue 12).
    return void (await addPushed(s, [...result.tally.confirmed], result, ctx))
  }
  if (!result.ok) {
    s.push.failed.push(...roots)
    if (result.reason && !s.notes.includes(`cachix said: ${result.reason}`))
      s.notes.push(`cachix said: ${result.reason}`)
    return
  }
  await addPushed(s, [...result.tally.announced.keys()], result, ctx)
}

async function addPushed(s: Summary, paths: string[], result: PushResult, ctx: Context): Promise<void> {
  const known = new Set(s.push.pushed.map((p) => p.path))
  const fresh = paths.filter((p) => !known.has(p))
  s.push.pushed.push(...(await withSizes(fresh, result.tally.announced, ctx.env, result.tally.exactSizes)))
  s.push.bytes = total(s.push.pushed)
}

async function enqueue(state: State, paths: string[], plan: Plan, reason: string, ctx: Context): Promise<string[]> {
  const cache = plan.cache!
  try {
    const { warning } = await state.enqueue(paths, cache, reason, plan.target && queueTarget(plan.target))
    if (warning) ctx.out.warn(warning)
    return paths
  } catch (error) {
    ctx.out.error(
      `could not queue ${plural(paths.length, 'path')} in ${state.dir} (${messageOf(error)}); push by hand: ` +
        `hms push --cache ${cache} ${paths.join(' ')}`,
    )
    return []
  }
}

/** `push.autoRetry`: after a good push, try what earlier runs left in the queue for this cache. */
async function retryQueue(s: Summary, plan: Plan, ctx: Context, state: State): Promise<void> {
  // Entries bound for what this name meant before (a changed config) are left for push --pending to refuse.
  const now = plan.target && queueTarget(plan.target)
  const mine = (e: PendingEntry) => e.cache === plan.cache && (!e.target || !now || sameTarget(e.target, now))
  const pending = (await readQueue(state, ctx)).filter(mine).map((e) => e.path)
  if (pending.length === 0) return
  if (!plan.autoRetry) return void ctx.out.info(waitingLine(pending.length, plan.cache!))
  let lock: Lock
  try {
    lock = await acquireLock(state.file('push.lock'), 'pushing')
  } catch {
    return void ctx.out.info(`${waitingLine(pending.length, plan.cache!)} (another hms is pushing now)`)
  }
  try {
    ctx.out.info(`retrying ${plural(pending.length, 'queued path')} for ${plan.cache}`)
    const result = await pushWithRetries(requestFor(plan, pending, 0), ctx)
    if (result.ok) {
      await state.dequeue(pending, plan.cache!)
      await applyPush(s, result, [], ctx)
      s.notes.push(`pushed ${plural(pending.length, 'queued path')} left by earlier runs`)
    } else ctx.out.warn(waitingLine(pending.length, plan.cache!))
  } finally {
    lock.release()
  }
}

/** Paths queued by earlier runs; this run's own are in its summary already. */
async function announcePending(cache: string, ctx: Context, state: State, queuedNow: number): Promise<void> {
  const count = (await readQueue(state, ctx)).filter((e) => e.cache === cache).length
  if (count > queuedNow) ctx.out.info(waitingLine(count, cache))
}

async function readQueue(state: State, ctx: Context) {
  try {
    const { entries, warning } = await state.pending()
    if (warning) ctx.out.warn(warning)
    return entries
  } catch (error) {
    ctx.out.warn(`could not read the queue in ${state.dir}: ${messageOf(error)}`)
    return []
  }
}

export function waitingLine(count: number, cache: string): string {
  return `${plural(count, 'path')} waiting for ${cache} — run hms push --pending`
}

/** One line of history for a run, switch or push; a history that cannot be written costs a warning only. */
export function record(
  s: Summary,
  state: State,
  ctx: Pick<Context, 'out'>,
  durationMs = s.switch?.durationMs ?? 0,
): void {
  try {
    state.appendHistory({
      time: new Date().toISOString(),
      command: s.switch ? 'switch' : 'push',
      profile: s.profile,
      cache: s.cache,
      ...(s.caches && s.caches.length > 1 ? { caches: s.caches } : {}),
      mode: s.mode,
      generation: s.switch?.generation ?? null,
      paths: s.push.pushed.length,
      bytes: s.push.bytes,
      failed: s.push.failed.length,
      durationMs: Math.round(durationMs),
      exitCode: s.exitCode,
    })
  } catch (error) {
    ctx.out.warn(`could not write history in ${state.dir}: ${messageOf(error)}`)
  }
}
