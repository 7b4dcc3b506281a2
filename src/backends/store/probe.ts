import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { HmsError } from '../../lib/errors.js'
import type { Env } from '../../lib/env.js'
import { withoutCredentials } from '../../plan/store-url.js'
import { schemeOfUrl, type StoreTarget } from '../../plan/target.js'
import type { Probe } from '../backend.js'
import { httpAuthHeaders } from './auth.js'
import {
  cacheDirectory,
  cacheFileUrl,
  credentialsHint,
  errorCode,
  type Limits,
  networkReason,
  notCounted,
  presentIn,
} from './presence.js'

/**
 * `hms doctor`'s question to a cache, answered by the code a push asks with: for http(s), its
 * `nix-cache-info` with the push's credentials (URL or netrc); for ssh and S3, one presence query
 * (`nix-store --check-validity`, one login) for a path no store holds; for file://, the directory.
 */
export async function probeStore(target: StoreTarget, env: Env, limits: Limits): Promise<Probe> {
  const label = withoutCredentials(target.url)
  const scheme = schemeOfUrl(target.url)
  if (scheme === 'file') return probeDirectory(cacheDirectory(target.url))
  if (scheme === 'http' || scheme === 'https')
    return probeHttp(label, await httpAuthHeaders(target.url, env), label, limits, {
      notYet: 'check the URL; a cache that takes uploads (e.g. WebDAV) gets one with the first push',
    })
  try {
    await presentIn(target, [nowhere(env)], env, limits)
  } catch (error) {
    return refused(error)
  }
  return { status: 'ok', message: `${label} answers: a Nix store` }
}

/** A push creates the directory, but one that is missing is more often an unmounted disk or a typo. */
function probeDirectory(dir: string): Probe {
  if (existsSync(join(dir, 'nix-cache-info'))) return { status: 'ok', message: `${dir} is a binary cache` }
  if (existsSync(dir))
    return {
      status: 'later',
      message: `${dir} is not a binary cache yet (no nix-cache-info)`,
      fix: 'nothing to do: the first push makes it one',
    }
  return {
    status: 'fail',
    message: `${dir} does not exist`,
    fix: `create or mount it (mkdir -p ${dir}), or fix the cache URL`,
  }
}

/** A store path no store holds: asking for it costs one round trip and proves that a store answers. */
function nowhere(env: Env): string {
  return `${env.NIX_STORE_DIR || '/nix/store'}/${'0'.repeat(32)}-hms-doctor-probe`
}

/**
 * What makes a URL a binary cache: `<base>/nix-cache-info`, asked with the headers a lookup sends.
 * `fixes.notFound` says what to do about a 404; `fixes.notYet` instead makes it a warning, for a
 * cache the first push sets up (Nix writes nix-cache-info itself); `fixes.privateOk`, when hms sent no credentials,
 * is the message for a 401/403 that is no problem (cachix logs in with its own config file).
 */
export async function probeHttp(
  base: string,
  headers: Record<string, string>,
  label: string,
  limits: Limits,
  fixes: ({ notFound: string } | { notYet: string }) & { privateOk?: string },
): Promise<Probe> {
  const { Batch, headStatus, keepAlive } = await import('./http-head.js')
  const agents = keepAlive(1)
  const { timeoutMs } = limits
  let status: number
  try {
    status = await headStatus(cacheFileUrl(base, 'nix-cache-info'), {
      method: 'GET',
      headers,
      timeoutMs,
      batch: new Batch(),
      agents,
    })
  } catch (error) {
    return unanswered(base, label, error, timeoutMs)
  } finally {
    agents.destroy()
  }
  if (status >= 200 && status < 300) return { status: 'ok', message: `${label} is a binary cache` }
  if ((status === 401 || status === 403) && fixes.privateOk && !headers.authorization)
    return { status: 'ok', message: fixes.privateOk }
  if (status === 401 || status === 403)
    return {
      status: 'fail',
      message: `${label} answered HTTP ${status} (not authorised)`,
      fix: credentialsHint(label, headers),
    }
  if (status === 404)
    return 'notYet' in fixes
      ? {
          status: 'later',
          message: `${label} is not a binary cache yet (HTTP 404 for nix-cache-info)`,
          fix: fixes.notYet,
        }
      : { status: 'fail', message: `${label} is not a binary cache (HTTP 404 for nix-cache-info)`, fix: fixes.notFound }
  return {
    status: 'later',
    message: `${label} answered HTTP ${status}`,
    fix: 'try again later; pushes that fail are queued',
  }
}

/** DNS and no-route errors mean this machine is offline, which is not a fault of the cache. */
const offlineCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN'])

function unanswered(base: string, label: string, error: unknown, timeoutMs: number): Probe {
  const code = errorCode(error)
  if (code && offlineCodes.has(code))
    return { status: 'offline', message: `skipped: offline, cannot resolve or reach ${new URL(base).host} (${code})` }
  const reason = networkReason(error, timeoutMs)
  if (/^no answer/.test(reason))
    return {
      status: 'later',
      message: `${label} is slow: ${reason}`,
      fix: 'check the network; pushes that fail are queued',
    }
  return { status: 'fail', message: `cannot reach ${label}: ${reason}`, fix: 'check the URL and that the server is up' }
}

/** The error a push or verify stops with, as doctor says it: a lookup's "nothing was counted" means nothing here. */
function refused(error: unknown): Probe {
  if (!(error instanceof HmsError)) throw error
  const fix = error.hint?.replace(`; ${notCounted}`, '')
  return { status: 'fail', message: error.message, ...(fix ? { fix } : {}) }
}
