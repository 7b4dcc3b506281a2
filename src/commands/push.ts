import { spawnBackgroundPush } from '../switch/background.js'
import { loadConfig } from '../state/config-file.js'
import { ExitCode, HmsError, messageOf, signalExitCode, usageError } from '../lib/errors.js'
import { plural, printable, shellJoin, shellWord } from '../lib/format.js'
import { recoverInflightQuietly } from '../state/inflight.js'
import { interruption, withRunSignals } from '../lib/interrupt.js'
import { describeTarget, queueTarget, sameTarget } from '../state/queue-target.js'
import { acquireLock } from '../state/lock.js'
import { notify } from '../ui/notify.js'
import type { Output } from '../ui/output.js'
import { makePlan, type Plan } from '../plan/plan.js'
import { backendOf } from '../backends/for-target.js'
import { pushWithRetries, requestFor } from '../backends/push.js'
import type { DropDocument, PushPlan, Summary } from '../plan/schema.js'
import { resolveRoots } from '../local/roots.js'
import { applyPush, applyStrict, record } from '../switch/settle.js'
import { State, type QueueTarget } from '../state/state.js'
import { printSummary } from '../ui/summary.js'
import type { Context } from '../switch/context.js'
import { resolveTarget, type Target } from '../plan/target.js'
import { outputFor, type Command } from './command.js'

type Dropped = DropDocument['dropped']

interface Batch {
  cache: string
  paths: string[]
  target?: Target
}

/** Signals are handled over the whole run (back-off included); --plan runs nothing to interrupt. */
const push: Command = (args, io, context) =>
  args.options.plan ? pushCommand(args, io, context) : withRunSignals(() => pushCommand(args, io, context))

const pushCommand: Command = async (args, io, { version }) => {
  const { options } = args
  const out = await outputFor(io, options)
  const state = new State(io.env)
  if (options.drop && !options.pending)
    throw usageError(
      '--drop goes with --pending',
      'hms push --pending --drop [--cache C] forgets what waits in the queue',
    )
  if (options.pending && args.positionals.length > 0) {
    throw usageError(
      `--pending pushes the queue; it takes no paths (got "${args.positionals[0]}")`,
      'run hms push PATHS… to push paths',
    )
  }
  // --plan reads, never writes: no recovery, no lock, no repair of a damaged queue.
  if (!options.plan) await recoverInflightQuietly(state, io.env, out)
  // Before planning: the cache to forget may be one hms can no longer resolve.
  if (options.drop) {
    const dropped = options.plan
      ? await planDrop(state, options.cache, io, options.json)
      : await dropQueued(state, options.cache, out)
    const document: DropDocument = {
      version,
      plan: options.plan,
      cache: options.cache ?? null,
      dropped,
      exitCode: ExitCode.ok,
    }
    if (options.json) out.json(document)
    return ExitCode.ok
  }
  const config = await loadConfig(io.env)
  const plan = makePlan({ options, passthrough: [], config, env: io.env, hostname: io.hostname })
  const ctx: Context = { env: io.env, cwd: io.cwd, out, version, json: options.json, self: io.self }
  const resolve = (cache: string) =>
    cache === plan.cache
      ? plan.target!
      : resolveTarget(cache, config.caches, io.env.HOME, 'the queue', [io.env.HMS_CACHE])
  let refused = 0
  const batches: Batch[] = options.pending
    ? await pendingBatches(state, {
        only: options.cache ? plan.cache! : undefined,
        locked: !options.plan,
        resolve,
        out,
        onRefused: (n) => {
          refused += n
        },
      })
    : [{ cache: plan.cache!, paths: resolveRoots(args.positionals, io).roots, target: plan.target }]
  if (options.plan) {
    const pushes = batches.map((b) => {
      const sign = backendOf(b).signCommand(b.paths)
      return { cache: b.cache, paths: b.paths, ...(sign ? { sign } : {}), command: planned(b, plan) }
    })
    if (options.json) out.json({ version, pushes } satisfies PushPlan)
    else
      for (const p of pushes) for (const argv of [p.sign, p.command]) if (argv) io.stdout.write(`${shellJoin(argv)}\n`)
    return ExitCode.ok
  }
  if (options.pending && batches.length === 0) {
    const exitCode = refused ? ExitCode.failure : ExitCode.ok
    // Nothing to push is a result too: under --json, still the one summary document.
    if (options.json) {
      const summary = { ...emptySummary(plan, version, 'pending'), ...queueCaches(batches), exitCode }
      if (refused)
        summary.push.skippedReason = `${plural(refused, 'queued path')} refused: where they were queued for is gone`
      out.json(summary)
    }
    return exitCode
  }
  return withState(state, async () => {
    // Written ahead, before waiting on anyone (or starting a background push): a push that is refused,
    // fails or is killed halfway leaves its paths queued.
    const why = `not yet confirmed by hms push${plan.credentialsNote ? `; ${plan.credentialsNote}` : ''}`
    if (!options.pending)
      for (const b of batches) await state.enqueue(b.paths, b.cache, why, b.target && queueTarget(b.target))
    if (options.background) {
      const what = options.pending && !options.cache ? { ...plan, cache: undefined } : plan
      const bg = spawnBackgroundPush(
        ctx,
        state,
        what,
        options.pending ? ['--pending'] : batches[0]!.paths,
        options.notify,
      )
      out.info(`pushing in the background (pid ${bg.pid}); log: ${bg.log}`)
      return ExitCode.ok
    }
    // A background push waits its turn; a person at the terminal is told at once.
    const lock = await acquireLock(state.file('push.lock'), 'pushing', io.env.HMS_BACKGROUND ? 30 * 60_000 : 0)
    try {
      const started = performance.now()
      const summary = emptySummary(
        plan,
        version,
        options.pending ? 'pending' : args.positionals.length ? 'paths' : 'generation',
      )
      if (options.pending) Object.assign(summary, queueCaches(batches))
      for (const batch of batches) {
        await pushBatch(batch, plan, ctx, state, summary)
        if (summary.exitCode !== 0) break
      }
      if (options.pending) await reportLeft(state, out)
      if (refused && summary.exitCode === ExitCode.ok) summary.exitCode = ExitCode.failure
      finish(summary, plan, state, ctx, options.json, performance.now() - started)
      if (options.notify) await notify(summary, io.env, out)
      return summary.exitCode
    } finally {
      lock.release()
    }
  })
}

/** The command a push of `batch` runs (what --plan shows). */
function planned(batch: Batch, plan: Plan): string[] {
  return backendOf(batch).pushCommand(batch.paths, plan)
}

/** The one way paths leave the queue unpushed: the user says so (a cache that is gone for good). */
async function dropQueued(state: State, cache: string | undefined, out: Output): Promise<Dropped> {
  const { dropped } = await withState(state, () =>
    state.withQueue((entries) => {
      const kept = entries.filter((e) => cache !== undefined && e.cache !== cache)
      const keep = new Set(kept)
      const gone = entries.filter((e) => !keep.has(e)).map(({ path, cache }) => ({ path, cache }))
      entries.splice(0, entries.length, ...kept)
      return { dropped: gone }
    }),
  )
  out.info(
    `dropped ${plural(dropped.length, 'queued path')}${cache ? ` for ${printable(cache)}` : ''}; ` +
      'they will not be pushed',
  )
  return dropped
}

/** `--drop --plan`: what would be forgotten, and nothing forgotten. As text on stdout, or in the --json document. */
async function planDrop(
  state: State,
  cache: string | undefined,
  io: Parameters<Command>[1],
  json: boolean,
): Promise<Dropped> {
  const { entries } = await state.readPending()
  const gone = entries
    .filter((e) => cache === undefined || e.cache === cache)
    .map(({ path, cache }) => ({ path, cache }))
  if (json) return gone
  io.stdout.write(`would drop ${plural(gone.length, 'queued path')}${cache ? ` for ${printable(cache)}` : ''}\n`)
  for (const e of gone) io.stdout.write(`  ${printable(e.cache)}  ${printable(e.path)}\n`)
  return gone
}

/** The queue is what makes a push safe to retry: without a writable state dir, say so plainly. */
async function withState<T>(state: State, work: () => Promise<T>): Promise<T> {
  try {
    state.ensureDir()
    return await work()
  } catch (error) {
    throw state.unwritable(error)
  }
}

export default push

interface PendingOptions {
  /** `--cache`: only this cache's entries. */
  only: string | undefined
  /** Under the queue lock (repairing a damaged file), or a plain read for --plan. */
  locked: boolean
  resolve: (cache: string) => Target
  out: Output
  onRefused: (count: number) => void
}

/**
 * The queue, grouped by cache and by where each entry was going. Entries whose recorded target
 * is not what their cache name means now are refused, never sent elsewhere.
 */
async function pendingBatches(state: State, options: PendingOptions): Promise<Batch[]> {
  const { only, locked, resolve, out, onRefused } = options
  const { entries, warning } = await (locked ? withState(state, () => state.pending()) : state.readPending())
  if (warning) out.warn(printable(warning))
  const groups = new Map<string, { cache: string; recorded?: QueueTarget; paths: string[] }>()
  const elsewhere = new Map<string, number>()
  for (const e of entries) {
    if (only && e.cache !== only) {
      elsewhere.set(e.cache, (elsewhere.get(e.cache) ?? 0) + 1)
      continue
    }
    const key = JSON.stringify([e.cache, e.target ?? null])
    const group = groups.get(key) ?? { cache: e.cache, ...(e.target ? { recorded: e.target } : {}), paths: [] }
    group.paths.push(e.path)
    groups.set(key, group)
  }
  for (const [cache, n] of elsewhere) {
    const wait = `${plural(n, 'path')} wait${n === 1 ? 's' : ''} for ${printable(cache)}`
    out.info(`${wait}, not pushed now (--cache ${printable(only!)}); hms push --pending pushes every cache`)
  }
  if (groups.size === 0) out.info(only ? `nothing waits for ${printable(only)}` : 'the queue is empty: nothing to push')
  const batches: Batch[] = []
  for (const { cache, recorded, paths } of groups.values()) {
    const refuse = (why: string) => {
      onRefused(paths.length)
      const drop = `hms push --pending --drop --cache ${shellWord(cache)}`
      // The whole line: `why` quotes the name (and the recorded target) read from the queue.
      out.warn(
        printable(`${plural(paths.length, 'queued path')} for ${cache} not pushed: ${why}; to forget them: ${drop}`),
      )
    }
    let target: Target
    try {
      target = resolve(cache)
    } catch (error) {
      refuse(messageOf(error))
      continue
    }
    const now = queueTarget(target)
    const moved = recorded && !sameTarget(recorded, now)
    if (moved) refuse(`they were queued for ${describeTarget(recorded)}, but ${cache} now means ${describeTarget(now)}`)
    else batches.push({ cache, paths, target })
  }
  return batches
}

/** Pushes one cache's paths, which are already in the queue; they leave it only once the cache has them. */
async function pushBatch(batch: Batch, plan: Plan, ctx: Context, state: State, summary: Summary): Promise<void> {
  try {
    await pushOneBatch(batch, plan, ctx, state, summary)
  } catch (error) {
    // A signal while a short query ran (cachix --version, a size): the batch stays queued, the run still ends in its
    // summary.
    if (!(error instanceof HmsError) || !error.signal) throw error
    summary.push.queued.push(...batch.paths.filter((p) => !summary.push.queued.includes(p)))
    summary.push.skippedReason ??= `interrupted by ${error.signal}`
    summary.exitCode = error.exitCode
  }
}

async function pushOneBatch(batch: Batch, plan: Plan, ctx: Context, state: State, summary: Summary): Promise<void> {
  const blocker = await backendOf(batch).blocker(ctx.env)
  if (blocker) {
    if (plan.strict)
      throw new HmsError(`${blocker.message}; nothing pushed, the paths stay queued`, {
        exitCode: ExitCode.usage,
        hint: blocker.fix,
      })
    ctx.out.warn(`${blocker.message} — the paths stay queued for ${printable(batch.cache)} (${blocker.fix})`)
    summary.push.queued.push(...batch.paths)
    summary.push.skippedReason = blocker.message
    return
  }
  summary.push.attempted = true
  const result = await pushWithRetries(
    { ...requestFor(plan, batch.paths), cache: batch.cache, target: batch.target },
    ctx,
  )
  await applyPush(summary, result, batch.paths, ctx)
  if (result.ok) await state.dequeue(batch.paths, batch.cache)
  else {
    summary.push.queued.push(...batch.paths)
    if (result.outcome.interrupted)
      summary.exitCode = signalExitCode(result.outcome.interrupted) ?? ExitCode.interrupted
  }
  // A signal between two children (no child to pass it on to): stop here, the rest stays queued.
  const signal = interruption()
  if (signal && summary.exitCode === ExitCode.ok) summary.exitCode = signalExitCode(signal) ?? ExitCode.interrupted
}

/** A queue pushed to one cache names it; pushed to several, `cache` is null and `caches` names them all. */
function queueCaches(batches: Batch[]): Pick<Summary, 'cache' | 'caches'> {
  const caches = [...new Set(batches.map((b) => b.cache))]
  return { cache: caches.length === 1 ? caches[0]! : null, caches }
}

async function reportLeft(state: State, out: Output): Promise<void> {
  const left = new Map<string, number>()
  for (const e of (await state.readPending()).entries) left.set(e.cache, (left.get(e.cache) ?? 0) + 1)
  for (const [cache, count] of left) out.warn(`${plural(count, 'path')} still waiting for ${printable(cache)}`)
}

function emptySummary(plan: Plan, version: string, mode: Summary['mode']): Summary {
  return {
    version,
    command: plan.pushCommand ?? ['cachix', 'push'],
    profile: plan.profile ?? null,
    host: plan.host,
    cache: plan.cache ?? null,
    mode,
    switch: null,
    push: {
      attempted: false,
      pushed: [],
      failed: [],
      bytes: 0,
      skippedReason: null,
      alreadyPresent: 0,
      queued: [],
      excluded: [],
      outsideGeneration: [],
    },
    notes: [],
    background: null,
    exitCode: 0,
  }
}

function finish(summary: Summary, plan: Plan, state: State, ctx: Context, json: boolean, durationMs: number): void {
  applyStrict(summary, plan.strict)
  record(summary, state, ctx, durationMs)
  if (json) ctx.out.json(summary)
  else printSummary(summary, ctx.out)
}
