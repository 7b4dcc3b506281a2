import { ExitCode, HmsError } from '../lib/errors.js'
import { plural } from '../lib/format.js'
import { which } from '../lib/which.js'
import { capture } from '../lib/process.js'
import type { Generation } from '../local/generation.js'
import type { Plan } from '../plan/plan.js'
import type { Summary, VerifyResult } from '../plan/schema.js'
import { cacheUrl, lastLine, presentIn, type Limits } from './store/presence.js'
import type { Target } from '../plan/target.js'

export { defaultLimits, lastLine, networkReason, narinfoUrl, pool, presentIn, type Limits } from './store/presence.js'

type Env = Record<string, string | undefined>

export interface PathInfo {
  path: string
  narSize: number
  references: string[]
}

const nixCommand = ['--extra-experimental-features', 'nix-command']

/** Closure of `roots` in the local store, with sizes and references, from one `nix path-info`. */
export async function closureInfo(roots: string[], env: Env): Promise<Map<string, PathInfo>> {
  if (roots.length === 0) return new Map()
  const nix = which('nix', env)
  if (!nix) throw new HmsError('nix not found on PATH', { exitCode: ExitCode.notFound, hint: 'hms needs Nix to push to or check a store URL' })
  const result = await capture(nix, [...nixCommand, 'path-info', '--json', '-r', ...roots], { env, timeoutMs: 120_000 })
  if (result.exitCode !== 0) throw new HmsError(`cannot read the closure of ${roots.length === 1 ? roots[0] : plural(roots.length, 'path')}: ${lastLine(result.stderr)}`, { exitCode: ExitCode.usage })
  const infos = pathInfos(result.stdout)
  return new Map(infos.filter((i) => i.valid !== false).map((i) => [i.path, { path: i.path, narSize: i.narSize ?? 0, references: i.references ?? [] }]))
}

interface RawPathInfo {
  path: string
  narSize?: number
  references?: string[]
  valid?: boolean
}

/**
 * `nix path-info --json`: a list of objects up to Nix 2.18, an object keyed by path (null for an
 * invalid path) from Nix 2.19 on. Anything else is odd output: one clear error, no stack trace.
 */
export function pathInfos(stdout: string): RawPathInfo[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    throw new HmsError('nix path-info printed something that is not JSON', { exitCode: ExitCode.usage, hint: 'check your Nix installation (nix path-info --json works?)' })
  }
  if (Array.isArray(parsed)) return parsed as RawPathInfo[]
  if (parsed && typeof parsed === 'object') {
    return Object.entries(parsed as Record<string, Omit<RawPathInfo, 'path'> | null>).map(([path, info]) => (info ? { ...info, path } : { path, valid: false }))
  }
  throw new HmsError('nix path-info printed JSON hms does not understand', { exitCode: ExitCode.usage })
}

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
  const present = await presentIn(input.target, paths, input.env, input.limits)
  const missing = paths.filter((p) => !present.has(p)).sort().map((path) => ({ path, bytes: infos.get(path)?.narSize ?? 0 }))
  return {
    cache: input.cache,
    url: cacheUrl(input.target),
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

/** `hms switch --verify`: after the push, is the new generation whole in the cache? The answer goes into the summary. */
export async function verifyAfterSwitch(summary: Summary, plan: Plan, ctx: { env: Env }, after: Generation | undefined): Promise<Summary> {
  const skip = !plan.push || !plan.target ? 'nothing was pushed' : !summary.switch?.ok || !after ? 'the switch failed' : summary.background ? 'the push runs in the background; run hms verify once it is done' : undefined
  if (skip) return { ...summary, notes: [...summary.notes, `not verified: ${skip}`] }
  const input = { target: plan.target!, cache: plan.cache!, roots: [after!.path], generation: after!.number, env: ctx.env }
  let verify: VerifyResult
  try {
    verify = await verifyClosure(input)
  } catch (error) {
    if (!(error instanceof HmsError)) throw error
    verify = failedVerify(input, error)
  }
  const exitCode = summary.exitCode === ExitCode.ok && !verify.ok && plan.strict ? ExitCode.verifyFailed : summary.exitCode
  return { ...summary, verify, exitCode }
}

/** The cache could not be asked: the result says why, and counts nothing as missing. */
export function failedVerify(input: Omit<VerifyInput, 'env'>, error: HmsError): VerifyResult {
  return {
    cache: input.cache,
    url: cacheUrl(input.target),
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
