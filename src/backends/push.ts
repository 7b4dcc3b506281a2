import { interruption, pause } from '../lib/interrupt.js'
import { printable } from '../lib/format.js'
import type { Plan } from '../plan/plan.js'
import { emptyTally, type PushAttempt, type PushContext, type PushRequest } from './backend.js'
import { backendOf } from './for-target.js'

export type { PushRequest }

/** A push of `paths` as the plan says: its cache and target, exclusions, jobs, compression and retries. */
export function requestFor(
  plan: Pick<Plan, 'cache' | 'target' | 'exclude' | 'jobs' | 'compressionMethod' | 'retries'>,
  paths: string[],
  retries = plan.retries,
): PushRequest {
  const { target, exclude, jobs, compressionMethod } = plan
  return { cache: plan.cache ?? '', target, exclude, paths, jobs, compressionMethod, retries }
}

export type PushResult = PushAttempt & { attempts: number }

/** Backoff before retry n (1-based): 1 s, 2 s, 4 s … scaled by HMS_RETRY_BASE_MS for tests. */
export function backoffMs(attempt: number, env: Record<string, string | undefined>): number {
  const base = Number(env.HMS_RETRY_BASE_MS ?? 1000)
  return (Number.isFinite(base) && base >= 0 ? base : 1000) * 2 ** (attempt - 1)
}

/**
 * One push to the request's cache, retried with exponential backoff; an interrupt stops the retries.
 * `retrying` means the first attempt already failed elsewhere (inside watch-exec), so start by waiting.
 */
export async function pushWithRetries(request: PushRequest, ctx: PushContext, retrying = false): Promise<PushResult> {
  const backend = backendOf(request)
  let attempts = 0
  let lastReason: string | undefined
  let last: PushAttempt | undefined
  const stopped = (signal: NodeJS.Signals): PushResult => {
    const outcome = { ...(last?.outcome ?? { exitCode: 1 }), interrupted: signal }
    return { ...(last ?? notPushed(lastReason)), outcome, ok: false, attempts }
  }
  for (;;) {
    // A signal before a retry, during its back-off or before the first attempt ends the retries: nothing more
    // starts, and no retry is announced that will not come.
    const before = interruption()
    if (before) return stopped(before)
    if (retrying || attempts > 0) {
      const retry = attempts + (retrying ? 1 : 0)
      const wait = backoffMs(retry, ctx.env)
      ctx.out.warn(
        `push to ${printable(request.cache)} failed${lastReason ? ` (${lastReason})` : ''}; ` +
          `retry ${retry}/${request.retries} in ${(wait / 1000).toFixed(1)}s`,
      )
      const during = await pause(wait)
      if (during) return stopped(during)
    }
    const result = await backend.push(request, ctx)
    last = result
    lastReason = result.reason
    attempts++
    const retriesLeft = request.retries - (attempts - (retrying ? 0 : 1))
    // A refusal (no such cache, no access) is not a network hiccup: retrying cannot help.
    if (result.ok || result.outcome.interrupted || result.tally.refusal || retriesLeft <= 0)
      return { ...result, attempts }
  }
}

function notPushed(reason: string | undefined): PushAttempt {
  return { ok: false, tally: emptyTally(), alreadyPresent: 0, outcome: { exitCode: 1 }, ...(reason ? { reason } : {}) }
}
