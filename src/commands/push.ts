import { spawnBackgroundPush } from '../background.js'
import { loadConfig } from '../config.js'
import { ExitCode, HmsError, signalExitCode, usageError } from '../errors.js'
import { shellJoin } from '../format.js'
import { acquireLock } from '../lock.js'
import { notify } from '../notify.js'
import { Output } from '../output.js'
import { makePlan, type Plan } from '../plan.js'
import { checkCachix } from '../preflight.js'
import { cachixPush, cachixPushCommand } from '../push.js'
import type { Summary } from '../schema.js'
import { resolveRoots } from '../roots.js'
import { applyPush, applyStrict, record } from '../settle.js'
import { State } from '../state.js'
import { printSummary } from '../summary.js'
import type { Context } from '../switch.js'
import { copyUrl, nixCopyArgs, resolveTarget, type Target } from '../target.js'
import type { Command } from './index.js'

interface Batch {
  cache: string
  paths: string[]
  target?: Target
}

const push: Command = async (args, io, { version }) => {
  const { options } = args
  const out = await Output.create({ stdout: io.stdout, stderr: io.stderr, env: io.env, quiet: options.quiet, verbose: options.verbose, json: options.json })
  const state = new State(io.env)
  if (options.drop && !options.pending) throw usageError('--drop goes with --pending', 'hms push --pending --drop [--cache C] forgets what waits in the queue')
  // Before planning: the cache to forget may be one hms can no longer resolve.
  if (options.drop) return dropQueued(state, options.cache, out)
  const config = await loadConfig(io.env)
  const plan = makePlan({ options, passthrough: [], config, env: io.env, hostname: io.hostname })
  const ctx: Context = { env: io.env, cwd: io.cwd, out, version, json: options.json, self: io.self }
  if (options.pending && args.positionals.length > 0) throw usageError(`--pending pushes the queue; it takes no paths (got "${args.positionals[0]}")`, 'run hms push PATHS… to push paths')
  const listed = options.pending ? await pendingBatches(state, options.cache ? plan.cache! : undefined, out) : [{ cache: plan.cache!, paths: resolveRoots(args.positionals, io).roots }]
  const batches = listed.flatMap((b) => {
    if (b.cache === plan.cache) return [{ ...b, target: plan.target }]
    try {
      return [{ ...b, target: resolveTarget(b.cache, config.caches, io.env.HOME, 'the queue', [io.env.HMS_CACHE]) }]
    } catch (error) {
      out.warn(`${b.paths.length} queued path${b.paths.length === 1 ? '' : 's'} for ${b.cache} cannot be pushed (${(error as Error).message}); to forget them: hms push --pending --drop --cache '${b.cache}'`)
      return []
    }
  })
  if (options.plan) {
    for (const b of batches) io.stdout.write(`${shellJoin(b.target?.kind === 'store' ? [...nixCopyArgs(copyUrl(b.target, plan.compressionMethod)).filter((a) => a !== '--no-recursive'), ...b.paths] : cachixPushCommand({ ...b, jobs: plan.jobs, compressionMethod: plan.compressionMethod, retries: 0 }))}\n`)
    return ExitCode.ok
  }
  if (options.pending && listed.length === 0) return ExitCode.ok
  if (options.background) {
    const bg = spawnBackgroundPush(ctx, state, options.pending && !options.cache ? { ...plan, cache: undefined } : plan, options.pending ? ['--pending'] : batches[0]!.paths, options.notify)
    out.info(`pushing in the background (pid ${bg.pid}); log: ${bg.log}`)
    return ExitCode.ok
  }
  return withState(state, async () => {
    // Written ahead, before waiting on anyone: a push that is refused, fails or is killed halfway leaves its paths queued.
    if (!options.pending) for (const b of batches) await state.enqueue(b.paths, b.cache, `not yet confirmed by hms push${plan.credentialsNote ? `; ${plan.credentialsNote}` : ''}`)
    // A background push waits its turn; a person at the terminal is told at once.
    const lock = await acquireLock(state.file('push.lock'), 'pushing', io.env.HMS_BACKGROUND ? 30 * 60_000 : 0)
    try {
      const started = performance.now()
      const summary = emptySummary(plan, version, options.pending ? 'pending' : args.positionals.length ? 'paths' : 'generation')
      if (options.pending) summary.cache = batches.length === 1 ? batches[0]!.cache : null
      for (const batch of batches) {
        await pushBatch(batch, plan, ctx, state, summary)
        if (summary.exitCode !== 0) break
      }
      if (options.pending) await reportLeft(state, out)
      finish(summary, plan, state, ctx, options.json, performance.now() - started)
      if (options.notify) await notify(summary, io.env, out)
      return summary.exitCode
    } finally {
      lock.release()
    }
  })
}

/** The one way paths leave the queue unpushed: the user says so (a cache that is gone for good). */
async function dropQueued(state: State, cache: string | undefined, out: Output): Promise<number> {
  const { dropped } = await withState(state, () => state.withQueue((entries) => {
    const kept = entries.filter((e) => cache !== undefined && e.cache !== cache)
    const dropped = entries.length - kept.length
    entries.splice(0, entries.length, ...kept)
    return { dropped }
  }))
  out.info(`dropped ${dropped} queued path${dropped === 1 ? '' : 's'}${cache ? ` for ${cache}` : ''}; they will not be pushed`)
  return ExitCode.ok
}

/** The queue is what makes a push safe to retry: without a writable state dir, say so plainly. */
async function withState<T>(state: State, work: () => Promise<T>): Promise<T> {
  try {
    state.ensureDir()
    return await work()
  } catch (error) {
    if (error instanceof HmsError || !(error as NodeJS.ErrnoException).code) throw error
    throw new HmsError(`cannot write hms's state in ${state.dir} (${(error as NodeJS.ErrnoException).code})`, { exitCode: ExitCode.failure, hint: 'hms push keeps its queue there; fix the directory or XDG_STATE_HOME' })
  }
}

export default push


async function pendingBatches(state: State, only: string | undefined, out: Output): Promise<Batch[]> {
  const { entries, warning } = await state.pending()
  if (warning) out.warn(warning)
  const byCache = new Map<string, string[]>()
  for (const e of entries) if (!only || e.cache === only) byCache.set(e.cache, [...(byCache.get(e.cache) ?? []), e.path])
  if (byCache.size === 0) out.info('the queue is empty: nothing to push')
  return [...byCache].map(([cache, paths]) => ({ cache, paths }))
}

/** Pushes one cache's paths, which are already in the queue; they leave it only once the cache has them. */
async function pushBatch(batch: Batch, plan: Plan, ctx: Context, state: State, summary: Summary): Promise<void> {
  const blocker = batch.target?.kind === 'store' ? undefined : await checkCachix(ctx.env)
  if (blocker) {
    if (plan.strict) throw new HmsError(`${blocker.message}; nothing pushed, the paths stay queued`, { exitCode: ExitCode.usage, hint: blocker.fix })
    ctx.out.warn(`${blocker.message} — the paths stay queued for ${batch.cache} (${blocker.fix})`)
    summary.push.queued.push(...batch.paths)
    summary.push.skippedReason = blocker.message
    return
  }
  summary.push.attempted = true
  const result = await cachixPush({ target: batch.target, exclude: plan.exclude, cache: batch.cache, paths: batch.paths, jobs: plan.jobs, compressionMethod: plan.compressionMethod, retries: plan.retries }, ctx)
  await applyPush(summary, result, batch.paths, ctx)
  if (result.ok) await state.dequeue(batch.paths, batch.cache)
  else {
    summary.push.queued.push(...batch.paths)
    if (result.outcome.interrupted) summary.exitCode = signalExitCode(result.outcome.interrupted) ?? ExitCode.interrupted
  }
}

async function reportLeft(state: State, out: Output): Promise<void> {
  const left = new Map<string, number>()
  for (const e of state.readPending().entries) left.set(e.cache, (left.get(e.cache) ?? 0) + 1)
  for (const [cache, count] of left) out.warn(`${count} path${count === 1 ? '' : 's'} still waiting for ${cache}`)
}

function emptySummary(plan: Plan, version: string, mode: Summary['mode']): Summary {
  return {
    version, command: plan.pushCommand ?? ['cachix', 'push'], profile: plan.profile ?? null, host: plan.host, cache: plan.cache ?? null, mode, switch: null,
    push: { attempted: false, pushed: [], failed: [], bytes: 0, skippedReason: null, alreadyPresent: 0, queued: [], excluded: [] },
    notes: [], background: null, exitCode: 0,
  }
}

function finish(summary: Summary, plan: Plan, state: State, ctx: Context, json: boolean, durationMs: number): void {
  applyStrict(summary, plan.strict)
  record(summary, state, ctx, durationMs)
  if (json) ctx.out.json(summary)
  else printSummary(summary, ctx.out)
}
