import { ExitCode, HmsError } from '../lib/errors.js'
import { closureInfo } from '../local/closure.js'
import type { Generation } from '../local/generation.js'
import type { Plan } from '../plan/plan.js'
import type { Summary, VerifyResult } from '../plan/schema.js'
import type { Limits } from './store/presence.js'
import { backendFor } from './for-target.js'
import type { Target } from '../plan/target.js'

export { defaultLimits, lastLine, networkReason, narinfoUrl, pool, presentIn, type Limits } from './store/presence.js'
export { closureInfo, pathInfos, type PathInfo } from '../local/closure.js'
import type { Env } from '../lib/env.js'

export interface VerifyInput {
  target: Target
  cache: string
  roots: string[]
  generation: number | null
  env: Env
  limits?: Limits
}

/** Is every path of the roots' closure in the cache? Throws HmsError (exit 2) when the cache cannot be asked. */
export async function verifyClosure(input: VerifyInput): Promise<VerifyResult> {
  const infos = await closureInfo(input.roots, input.env)
  const paths = [...infos.keys()]
  const present = await backendFor(input.target).present(paths, input.env, input.limits)
  const missing = paths
    .filter((p) => !present.has(p))
    .sort()
    .map((path) => ({ path, bytes: infos.get(path)?.narSize ?? 0 }))
  return {
    cache: input.cache,
    url: backendFor(input.target).url,
    generation: input.generation,
    roots: input.roots,
    total: paths.length,
    present: paths.length - missing.length,
    missing,
    missingBytes: missing.reduce((sum, m) => sum + m.bytes, 0),
    ok: missing.length === 0,
    error: null,
  }
}

/**
 * `hms switch --verify`: after the push, is the new generation whole in the cache? The answer goes into the summary.
 */
export async function verifyAfterSwitch(
  summary: Summary,
  plan: Plan,
  ctx: { env: Env },
  after: Generation | undefined,
): Promise<Summary> {
  const skip =
    !plan.push || !plan.target
      ? 'nothing was pushed'
      : !summary.switch?.ok || !after
        ? 'the switch failed'
        : summary.background
          ? 'the push runs in the background; run hms verify once it is done'
          : undefined
  if (skip) return { ...summary, notes: [...summary.notes, `not verified: ${skip}`] }
  const input = {
    target: plan.target!,
    cache: plan.cache!,
    roots: [after!.path],
    generation: after!.number,
    env: ctx.env,
  }
  let verify: VerifyResult
  try {
    verify = await verifyClosure(input)
  } catch (error) {
    if (!(error instanceof HmsError)) throw error
    verify = failedVerify(input, error)
  }
  const exitCode =
    summary.exitCode === ExitCode.ok && !verify.ok && plan.strict ? ExitCode.verifyFailed : summary.exitCode
  return { ...summary, verify, exitCode }
}

/** The cache could not be asked: the result says why, and counts nothing as missing. */
export function failedVerify(input: Omit<VerifyInput, 'env'>, error: HmsError): VerifyResult {
  return {
    cache: input.cache,
    url: backendFor(input.target).url,
    generation: input.generation,
    roots: input.roots,
    total: 0,
    present: 0,
    missing: [],
    missingBytes: 0,
    ok: false,
    error: error.message,
  }
}
