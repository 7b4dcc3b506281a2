import { existsSync, readFileSync, statSync } from 'node:fs'
import { httpAuthHeaders } from './auth.js'
import type { Agents, Batch } from './http-head.js'
import { ExitCode, HmsError } from '../../lib/errors.js'
import { which } from '../../lib/which.js'
import { capture } from '../../lib/process.js'
import { withoutCredentials } from '../../plan/store-url.js'
import { lastLine } from '../../lib/format.js'

export { lastLine }
import { schemeOfUrl, storeHash, type StoreTarget } from '../../plan/target.js'
import type { Env } from '../../lib/env.js'
import type { PathInfo } from '../../local/closure.js'

export interface Limits {
  /** Requests in flight at once. */
  jobs: number
  /** How long one answer may take before the cache counts as slow. */
  timeoutMs: number
}

export const defaultLimits: Limits = { jobs: 16, timeoutMs: 15_000 }

/**
 * Which of `paths` the cache already holds, in one round trip per batch whatever the kind: a
 * directory listing, parallel HEADs, or one `nix-store --check-validity` (one ssh login). A cache
 * that cannot be asked throws HmsError (exit 2): that is an error, never "missing". `permanent`
 * on the error marks a refusal that no retry can change (wrong credentials, unopenable store).
 */
export async function presentIn(
  target: StoreTarget,
  paths: string[],
  env: Env,
  limits: Limits = defaultLimits,
  forPush = false,
): Promise<Set<string>> {
  if (paths.length === 0) return new Set()
  const scheme = schemeOfUrl(target.url)
  if (scheme === 'file') return presentInDirectory(target.url, paths, forPush)
  const label = withoutCredentials(target.url)
  if (scheme === 'http' || scheme === 'https')
    return presentOverHttp(label, paths, limits, await httpAuthHeaders(target.url, env), label)
  return presentViaNixStore(target.url, paths, env, limits)
}

/** The directory Nix writes for a file:// URL: the path as written (Nix 2.8 does not decode `%XX`). */
export function cacheDirectory(url: string): string {
  return url.replace(/^file:\/\//i, '').split(/[?#]/)[0]!
}

/** A push creates the directory (nix copy does); to verify, a missing one is an error: an unmounted disk, a typo. */
function presentInDirectory(url: string, paths: string[], forPush: boolean): Set<string> {
  const dir = cacheDirectory(url)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {}
  if (!isDir && forPush) return new Set()
  if (!isDir)
    throw new HmsError(`cache directory ${dir} does not exist`, {
      exitCode: ExitCode.usage,
      hint: 'is the disk mounted? hms creates it on the first push',
    })
  return new Set(paths.filter((p) => existsSync(`${dir}/${storeHash(p)}.narinfo`)))
}

/**
 * The closure of `roots` as a file:// cache holds it: each path's narinfo (its `NarSize` and
 * `References`), followed from the roots. After a copy it answers both "is it there?" and "what is
 * the closure?" with file reads, where asking the local store costs a Nix start. Undefined as soon
 * as one narinfo is missing or unreadable: the cache does not hold the whole closure.
 */
export function closureInDirectory(url: string, roots: readonly string[]): Map<string, PathInfo> | undefined {
  const dir = cacheDirectory(url)
  const closure = new Map<string, PathInfo>()
  const todo = [...roots]
  for (let path = todo.pop(); path !== undefined; path = todo.pop()) {
    if (closure.has(path)) continue
    let text: string
    try {
      text = readFileSync(`${dir}/${storeHash(path)}.narinfo`, 'utf8')
    } catch {
      return undefined
    }
    const field = (name: string) => new RegExp(`^${name}: ?(.*)$`, 'm').exec(text)?.[1]?.trim()
    const narSize = Number(field('NarSize'))
    if (field('StorePath') !== path || !Number.isSafeInteger(narSize)) return undefined
    const storeDir = path.slice(0, path.lastIndexOf('/'))
    const references = (field('References') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((name) => `${storeDir}/${name}`)
    closure.set(path, { path, narSize, references })
    todo.push(...references)
  }
  return closure
}

export function narinfoUrl(base: string, path: string): string {
  return cacheFileUrl(base, `${storeHash(path)}.narinfo`)
}

/** A file of the binary cache at `base` (its query and trailing slashes left out). */
export function cacheFileUrl(base: string, file: string): string {
  return `${base.split('?')[0]!.replace(/\/+$/, '')}/${file}`
}

export async function presentOverHttp(
  base: string,
  paths: string[],
  limits: Limits,
  headers: Record<string, string>,
  label: string,
): Promise<Set<string>> {
  // node:http and node:https (with TLS and crypto) are loaded only by the commands that ask over HTTP.
  const { Batch, headStatus, keepAlive } = await import('./http-head.js')
  const present = new Set<string>()
  const batch = new Batch()
  const agents = keepAlive(limits.jobs)
  try {
    await pool(paths, limits.jobs, async (path) => {
      if (await narinfoExists(narinfoUrl(base, path), limits.timeoutMs, headers, label, batch, agents, headStatus))
        present.add(path)
    })
  } catch (error) {
    batch.cancel()
    throw error
  } finally {
    agents.destroy()
  }
  return present
}

type Head = typeof import('./http-head.js').headStatus

async function narinfoExists(
  url: string,
  timeoutMs: number,
  headers: Record<string, string>,
  label: string,
  batch: Batch,
  agents: Agents,
  headStatus: Head,
): Promise<boolean> {
  const ask = (method: 'HEAD' | 'GET') => headStatus(url, { method, headers, timeoutMs, batch, agents })
  let status: number
  try {
    status = await ask('HEAD')
    // Some static servers refuse HEAD; the narinfo is small, so ask again with GET.
    if (status === 405 || status === 501) status = await ask('GET')
  } catch (error) {
    if (batch.cancelled) return false
    throw unreachable(label, error, timeoutMs)
  }
  if (status >= 200 && status < 300) return true
  // Nix itself reads 403 as "not there": S3 answers 403 for a missing key when listing is not allowed.
  if (status === 404 || status === 403) return false
  if (status === 401) {
    throw new HmsError(`${label} answered HTTP 401 (not authorised)`, {
      exitCode: ExitCode.usage,
      hint: credentialsHint(label, headers),
      permanent: true,
    })
  }
  throw new HmsError(`${label} answered HTTP ${status} for ${withoutCredentials(url)}`, {
    exitCode: ExitCode.usage,
    hint: 'the cache answered with an error; try again later',
  })
}

/** What to do when the cache at `label` refuses hms, given the `headers` hms sent. */
export function credentialsHint(label: string, headers: Record<string, string>): string {
  if (label.startsWith('Cachix')) return 'the cache wants credentials (CACHIX_AUTH_TOKEN)'
  return headers.authorization
    ? 'the cache refused the credentials hms sent (from the URL or the netrc file Nix reads); check user and password'
    : 'the cache wants credentials: put them in the netrc file Nix reads (netrc-file in nix.conf) ' +
        'or in the URL in the hms config (caches.NAME.url)'
}

/** What an unanswered question means to verify; a push says instead what became of its paths (store-push.ts). */
export const notCounted = 'nothing was counted as missing'

/** Refused or unresolvable: nobody is there. No answer in time: somebody may be, only slow. */
function unreachable(label: string, error: unknown, timeoutMs: number): HmsError {
  const reason = networkReason(error, timeoutMs)
  if (/^no answer/.test(reason))
    return new HmsError(`${label} is slow: ${reason}`, {
      exitCode: ExitCode.usage,
      hint: `the cache or the link is slow; raise --timeout; ${notCounted}`,
    })
  return new HmsError(`cannot reach ${label}: ${reason}`, {
    exitCode: ExitCode.usage,
    hint: `check the URL and the network; ${notCounted}`,
  })
}

export function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${seconds(timeoutMs)}`
  const code = errorCode(error)
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found'
  return code ?? e?.cause?.message ?? e?.message ?? String(error)
}

/** The system error's code (ECONNREFUSED, ENOTFOUND…) of a failed request, if any. */
export function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined
  return e?.code ?? e?.cause?.code
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)}s`)

/** What ssh says when nobody answers at the address, as opposed to a store that refuses. */
const noHost = new RegExp(
  [
    'Connection refused',
    'Connection timed out',
    'No route to host',
    'Could not resolve',
    'Name or service not known',
    'Network is unreachable',
    'Connection closed by',
    'Connection reset',
  ].join('|'),
  'i',
)
/** Refusals a retry cannot change: the fix is the user's. */
const refusedStore = new RegExp(
  [
    'Permission denied',
    "don't know how to open Nix store",
    'protocol mismatch',
    'creating directory',
    'Read-only file system',
    'not allowed',
  ].join('|'),
  'i',
)

/**
 * s3://, ssh://, ssh-ng://: `nix-store --check-validity --print-invalid` answers a whole batch in one
 * call (one ssh login; `nix path-info` logs in again after every missing path on Nix 2.8). ssh gets
 * a connect timeout, so "unreachable" comes quickly while a slow store gets the whole budget.
 */
async function presentViaNixStore(url: string, paths: string[], env: Env, limits: Limits): Promise<Set<string>> {
  const nixStore = which('nix-store', env)
  if (!nixStore) throw new HmsError('nix-store not found on PATH', { exitCode: ExitCode.notFound })
  const label = withoutCredentials(url)
  const connect = Math.max(1, Math.round(limits.timeoutMs / 1000))
  const sshEnv = { ...env, NIX_SSHOPTS: `${env.NIX_SSHOPTS ?? ''} -o ConnectTimeout=${connect}`.trim() }
  const invalid = new Set<string>()
  for (const part of chunk(paths, 2000)) {
    const budget = limits.timeoutMs * 4 + part.length * 20
    // Nix takes no password in these URLs (ssh logs in with keys, s3 with AWS's own credentials): none goes on argv.
    const result = await capture(nixStore, ['--store', label, '--check-validity', '--print-invalid', ...part], {
      env: sshEnv,
      timeoutMs: budget,
    })
    if (result.timedOut)
      throw new HmsError(`${label} is slow: no answer about ${part.length} paths within ${seconds(budget)}`, {
        exitCode: ExitCode.usage,
        hint: `the store answered too slowly; ${notCounted}`,
      })
    // The remote's own reason (e.g. "creating directory …") says more than Nix's last line.
    const why =
      result.stderr
        .split('\n')
        .find((l) => refusedStore.test(l))
        ?.replace(/^\s*error:\s*/, '')
        .trim() ?? lastLine(result.stderr)
    const sshSaid = result.stderr
      .split('\n')
      .find((l) => noHost.test(l))
      ?.trim()
    if (result.exitCode !== 0 && sshSaid)
      throw new HmsError(`cannot reach ${label}: ${sshSaid}`, {
        exitCode: ExitCode.usage,
        hint: `check the host, NIX_SSHOPTS and the network; ${notCounted}`,
      })
    if (result.exitCode !== 0) {
      const permanent = refusedStore.test(result.stderr)
      throw new HmsError(`cannot open ${label}: ${why}`, {
        exitCode: ExitCode.usage,
        hint: permanent ? storeFix(label) : 'check the URL, credentials and the network',
        permanent,
      })
    }
    for (const line of result.stdout.split('\n')) if (line.startsWith('/')) invalid.add(line.trim())
  }
  return new Set(paths.filter((p) => !invalid.has(p)))
}

function storeFix(label: string): string {
  if (/^ssh/.test(label))
    return 'check that you can log in (ssh key or agent, NIX_SSHOPTS) and that the remote store exists and is writable'
  return 'check the URL and that the store exists and is writable'
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
