import { ExitCode, HmsError, signalExitCode } from '../lib/errors.js'
import { interruption } from '../lib/interrupt.js'
import { queueTarget } from '../state/queue-target.js'
import { currentGeneration, type Generation } from '../local/generation.js'
import { clearInflight, markInflight, recoverInflight } from '../state/inflight.js'
import { acquireLock } from '../state/lock.js'
import type { Plan } from '../plan/plan.js'
import { requireHomeManager, requireNix } from './preflight.js'
import { runForeground, type RunOptions } from '../lib/process.js'
import type { Summary } from '../plan/schema.js'
import { settle } from './settle.js'
import { State } from '../state/state.js'
import { summarize } from './outcome.js'
import { describeFailure, writeFailure } from '../lib/streams.js'
import { diffAfterSwitch } from '../diff/after-switch.js'
import { withHookOrFallback } from './trust.js'
import { finishedStatus, type Ran } from '../backends/backend.js'
import { backendFor } from '../backends/for-target.js'
import type { Context } from './context.js'

export type { Context, Ran }
import { verifyAfterSwitch } from '../backends/verify.js'

/** Carries out a switch plan: preflight, the switch (under cachix in watch-exec mode), then settle the push. */
export async function runSwitch(given: Plan, ctx: Context): Promise<Summary> {
  requireHomeManager(ctx.env)
  requireNix(ctx.env)
  const state = new State(ctx.env)
  const lock = await switchLock(state, given, ctx)
  try {
    await recoverInflight(state, ctx.env, ctx.out).catch(() => {})
    const plan = await withHookOrFallback(given, ctx)
    let skippedReason: string | null = plan.push ? null : 'disabled (--no-push)'
    const backend = plan.push && plan.target ? backendFor(plan.target) : undefined
    const blocker = await backend?.blocker(ctx.env)
    if (blocker) skippedReason = skipPush(blocker.message, blocker.fix, plan, ctx)
    const before = currentGeneration(ctx.env)
    // A signal during the preflight: nothing has been built yet, so nothing is started either.
    const early = interruption()
    if (early) {
      const exitCode = signalExitCode(early) ?? ExitCode.interrupted
      throw new HmsError(`interrupted by ${early} before switching; nothing was changed`, { exitCode, signal: early })
    }
    if (plan.push && plan.cache) markInflight(state, plan.cache, plan.target && queueTarget(plan.target))
    const watching = !blocker && plan.mode === 'watch-exec' ? backend : undefined
    // The package diff starts as soon as home-manager exits: beside a push that follows it, not after.
    let diffStarted: { after: Generation | undefined; diffing: ReturnType<typeof diffAfterSwitch> } | undefined
    // Once: a backend may call it after the switch below has already started the diff itself.
    const switched = () => {
      if (diffStarted) return
      const at = currentGeneration(ctx.env)
      diffStarted = { after: at, diffing: diffAfterSwitch(before, at, ctx.env) }
    }
    let ran: Ran = await (watching ? watching.watch(plan, ctx, switched) : plainSwitch(plan, ctx))
    if (
      ran.tally?.refusal &&
      ran.outcome.exitCode !== 0 &&
      !ran.outcome.interrupted &&
      sameGeneration(before, currentGeneration(ctx.env))
    ) {
      // cachix refused before starting home-manager: the switch must still happen.
      skippedReason = skipPush(
        `cachix refused to run: ${ran.tally.refusal}`,
        'check the cache name and your access (cachix authtoken)',
        plan,
        ctx,
      )
      ran = await plainSwitch(plan, ctx)
    }
    const after = currentGeneration(ctx.env)
    // Beside the push and the summary, not after them: the diff must never delay the switch's end.
    switched()
    const started = diffStarted!
    const diffing = sameGeneration(started.after, after) ? started.diffing : diffAfterSwitch(before, after, ctx.env)
    const summary = await summarize(plan, ctx, ran, { before, after, skippedReason })
    const lost = writeFailure(ctx.out.options.stdout)
    if (lost) {
      const why = describeFailure(lost)
      const note =
        `stdout was closed (${why}) while home-manager wrote to it: its output from then on was dropped, ` +
        'the switch went on'
      summary.notes.push(note)
    }
    const settled = await settle(summary, plan, ctx, state, {
      after,
      blocked: Boolean(skippedReason) && plan.push,
      interrupted: ran.outcome.interrupted,
      cachixDied: Boolean(ran.tally && ran.outcome.signal) && !backend?.complete(ran),
      ...(ran.refused ? { refused: ran.refused } : {}),
    })
    const { diff, note } = await diffing
    settled.diff = diff
    if (note) settled.notes.push(note)
    // Only now: if anything above threw, the marker stays and the next switch queues this generation.
    clearInflight(state)
    const stopped = interruption()
    if (plan.verify && stopped)
      return { ...settled, notes: [...settled.notes, `not verified: interrupted by ${stopped}`] }
    return plan.verify ? await verifyAfterSwitch(settled, plan, ctx, after) : settled
  } finally {
    lock.release()
  }
}

/**
 * One switch at a time. Without a writable state dir a failed push could not be queued, so a switch
 * that pushes stops before it starts; one that does not push has nothing to lose and goes on.
 */
async function switchLock(state: State, plan: Plan, ctx: Context): Promise<{ release(): void }> {
  try {
    state.ensureDir()
    return await acquireLock(state.file('switch.lock'), 'switching')
  } catch (error) {
    if (error instanceof HmsError) throw error
    const unwritable = state.unwritable(error) as HmsError
    if (plan.push) {
      throw new HmsError(`${unwritable.message}; not switching: a push that failed could not be queued`, {
        exitCode: unwritable.exitCode,
        hint: `${unwritable.hint}, or switch without pushing: hms --no-push`,
      })
    }
    ctx.out.warn(`${unwritable.message}: switching without the lock and history`)
    return { release() {} }
  }
}

function skipPush(message: string, fix: string, plan: Plan, ctx: Context): string {
  if (plan.strict)
    throw new HmsError(`${message}; not switching because of --strict`, { exitCode: ExitCode.usage, hint: fix })
  ctx.out.warn(`${message} — switching without pushing; the generation is queued. Fix: ${fix}`)
  return message
}

function sameGeneration(a: Generation | undefined, b: Generation | undefined): boolean {
  return a?.number === b?.number && a?.path === b?.path
}

async function plainSwitch(plan: Plan, ctx: Context): Promise<Ran> {
  const started = performance.now()
  const [file, ...args] = plan.homeManager
  const stdio: RunOptions['stdio'] = ['inherit', ctx.out.childStdout, 'inherit']
  const outcome = await runForeground(file!, args, { env: ctx.env, cwd: ctx.cwd, stdio, onStdout: ctx.out.relay })
  return { outcome, durationMs: performance.now() - started, finished: finishedStatus(outcome) }
}
