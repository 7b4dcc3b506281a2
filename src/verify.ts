import { existsSync, statSync } from 'node:fs'
import { ExitCode, HmsError } from './errors.js'
import { plural } from './format.js'
import { which } from './preflight.js'
import { capture } from './proc.js'
import type { Generation } from './generation.js'
import type { Plan } from './plan.js'
import type { Summary, VerifyResult } from './schema.js'
import { schemeOfUrl, storeHash, type Target } from './target.js'

type Env = Record<string, string | undefined>

export interface PathInfo {
  path: string
  narSize: number
  references: string[]
}

export interface Limits {
  /** Requests in flight at once. */
  jobs: number
  timeoutMs: number
}

export const defaultLimits: Limits = { jobs: 16, timeoutMs: 15_000 }

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

/**
 * Which of `paths` the cache already holds. A cache that cannot be asked (down, unreachable,
 * refusing) throws HmsError with exit 2: that is an error, never "missing".
 */
export async function presentIn(target: Target, paths: string[], env: Env, limits: Limits = defaultLimits, forPush = false): Promise<Set<string>> {
  if (paths.length === 0) return new Set()
  if (target.kind === 'cachix') return presentOverHttp(cacheUrl(target), paths, limits, cachixHeaders(env), `Cachix cache ${target.name}`)
  const scheme = schemeOfUrl(target.url)
  if (scheme === 'file') return presentInDirectory(target.url, paths, forPush)
  if (scheme === 'http' || scheme === 'https') return presentOverHttp(target.url, paths, limits, {}, target.url)
  return presentViaNix(target.url, paths, env, limits)
}

export function cacheUrl(target: Target): string {
  return target.kind === 'cachix' ? `https://${target.name}.cachix.org` : target.url
}

/** A push creates the directory (nix copy does); to verify, a missing one is an error: an unmounted disk, a typo. */
function presentInDirectory(url: string, paths: string[], forPush: boolean): Set<string> {
  const dir = decodeURIComponent(url.replace(/^file:\/\//i, '').split('?')[0]!)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {}
  if (!isDir && forPush) return new Set()
  if (!isDir) throw new HmsError(`cache directory ${dir} does not exist`, { exitCode: ExitCode.usage, hint: 'is the disk mounted? hms creates it on the first push' })
  return new Set(paths.filter((p) => existsSync(`${dir}/${storeHash(p)}.narinfo`)))
}

/** Never printed: Cachix private caches take the same token cachix uses. */
function cachixHeaders(env: Env): Record<string, string> {
  return env.CACHIX_AUTH_TOKEN ? { authorization: `Bearer ${env.CACHIX_AUTH_TOKEN}` } : {}
}

export function narinfoUrl(base: string, path: string): string {
  return `${base.split('?')[0]!.replace(/\/+$/, '')}/${storeHash(path)}.narinfo`
}

async function presentOverHttp(base: string, paths: string[], limits: Limits, headers: Record<string, string>, label: string): Promise<Set<string>> {
  const present = new Set<string>()
  const abort = new AbortController()
  await pool(paths, limits.jobs, async (path) => {
    if (await narinfoExists(narinfoUrl(base, path), limits.timeoutMs, headers, label, abort)) present.add(path)
  }).catch((error) => {
    abort.abort()
    throw error
  })
  return present
}

async function narinfoExists(url: string, timeoutMs: number, headers: Record<string, string>, label: string, abort: AbortController): Promise<boolean> {
  const ask = async (method: 'HEAD' | 'GET') => {
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)])
    const response = await fetch(url, { method, headers, signal, redirect: 'follow' })
    await response.body?.cancel()
    return response.status
  }
  let status: number
  try {
    status = await ask('HEAD')
    // Some static servers refuse HEAD; the narinfo is small, so ask again with GET.
    if (status === 405 || status === 501) status = await ask('GET')
  } catch (error) {
    if (abort.signal.aborted) return false
    throw new HmsError(`cannot reach ${label}: ${networkReason(error, timeoutMs)}`, { exitCode: ExitCode.usage, hint: 'check the URL and the network; nothing was counted as missing' })
  }
  if (status >= 200 && status < 300) return true
  // Nix itself reads 403 as "not there": S3 answers 403 for a missing key when listing is not allowed.
  if (status === 404 || status === 403) return false
  const hint = status === 401 ? 'the cache wants credentials (for Cachix: CACHIX_AUTH_TOKEN)' : 'the cache answered with an error; try again later'
  throw new HmsError(`${label} answered HTTP ${status} for ${url}`, { exitCode: ExitCode.usage, hint })
}

export function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)}s`}`
  const code = e?.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found'
  return code ?? e?.cause?.message ?? e?.message ?? String(error)
}

/** s3://, ssh://, ssh-ng://: nix itself asks the store, in chunks; `--json` marks missing paths instead of failing. */
async function presentViaNix(url: string, paths: string[], env: Env, limits: Limits): Promise<Set<string>> {
  const nix = which('nix', env)
  if (!nix) throw new HmsError('nix not found on PATH', { exitCode: ExitCode.notFound })
  const present = new Set<string>()
  const chunks = chunk(paths, 200)
  await pool(chunks, Math.max(1, Math.min(4, limits.jobs)), async (part) => {
    const result = await capture(nix, [...nixCommand, 'path-info', '--json', '--store', url, ...part], { env, timeoutMs: limits.timeoutMs * 4 })
    if (result.timedOut) throw new HmsError(`cannot reach ${url}: no answer within ${Math.round((limits.timeoutMs * 4) / 1000)}s`, { exitCode: ExitCode.usage })
    if (result.exitCode !== 0) throw new HmsError(`cannot ask ${url}: ${lastLine(result.stderr)}`, { exitCode: ExitCode.usage, hint: 'check the URL, credentials and the network' })
    for (const info of pathInfos(result.stdout)) if (info.valid !== false) present.add(info.path)
  })
  return present
}

/** Runs `work` over `items` with at most `jobs` at once; the first failure rejects. */
export async function pool<T>(items: readonly T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!
      try {
        await work(item)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker))
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = []
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size))
  return parts
}

export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/\u001b\[[0-9;]*m/g, '').trim()).filter(Boolean)
  return lines.filter((l) => l.startsWith('error:')).pop()?.replace(/^error:\s*/, '') ?? lines.pop() ?? 'no output'
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
  const exitCode = summary.exitCode === ExitCode.ok && !verify.ok && plan.strict ? ExitCode.pushFailed : summary.exitCode
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
