import type { CacheEntry } from './config.js'
import { messageOf, usageError } from '../lib/errors.js'
import { isOneOf } from '../lib/one-of.js'
import { storeUrlProblem, withoutCredentials } from './store-url.js'
import type { CompressionMethod } from './options.js'

/** Where a push goes: a Cachix cache (through the cachix client) or any Nix store URL (through nix copy). */
export type Target =
  | { kind: 'cachix'; name: string }
  | { kind: 'store'; url: string; name?: string; secretKeyFile?: string }

export type StoreTarget = Extract<Target, { kind: 'store' }>

export const storeSchemes = ['file', 's3', 'ssh', 'ssh-ng', 'http', 'https'] as const
/** Stores that hold narinfo files and sign them themselves with `?secret-key=`. */
const binaryCacheSchemes = new Set(['file', 's3', 'http', 'https'])
/** Cachix names are DNS labels: `<name>.cachix.org`. */
const cachixName = /^[a-z0-9][a-z0-9-]{0,62}$/
const cachixUrl = /^https:\/\/([a-z0-9][a-z0-9-]{0,62})\.cachix\.org\/?$/
const schemeOf = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//

type Caches = Record<string, CacheEntry>

/**
 * A cache reference as the user wrote it (`--cache`, `HMS_CACHE`, config or profile `cache`) →
 * the target. Pure; `home` expands `~` in key paths. A URL given without credentials (as hms
 * stores it: queue, history, a background push's argv) gets them back from the `caches` entry
 * with the same URL, or from `withSecrets` (HMS_CACHE), where the user keeps them.
 */
export function resolveTarget(
  ref: string,
  caches: Caches,
  home: string | undefined,
  from = 'config',
  withSecrets: (string | undefined)[] = [],
): Target {
  if (schemeOf.test(ref)) {
    const named = Object.entries(caches).find(([, entry]) => sameUrl(entry.url, ref))
    const full =
      ref === withoutCredentials(ref)
        ? [named?.[1].url, ...withSecrets].find((u) => u && u !== withoutCredentials(u) && sameUrl(u, ref))
        : undefined
    return fromUrl(
      full ?? ref,
      `"${withoutCredentials(ref)}" (from ${from})`,
      named?.[0],
      named?.[1].secretKeyFile,
      home,
    )
  }
  const entry = Object.hasOwn(caches, ref) ? caches[ref] : undefined
  if (entry)
    return fromUrl(entry.url, `caches.${ref}.url "${withoutCredentials(entry.url)}"`, ref, entry.secretKeyFile, home)
  if (cachixName.test(ref)) return { kind: 'cachix', name: ref }
  const known = Object.keys(caches)
  throw usageError(
    `cache "${ref}" (from ${from}) is neither a Cachix cache name nor one of the caches in config`,
    ref.startsWith('/')
      ? `a directory cache is a URL: file://${ref}`
      : known.length
        ? `configured caches: ${known.join(', ')}; a store URL needs a scheme (file://, s3://, ssh://, ssh-ng://, ` +
          'http://, https://)'
        : 'Cachix names are lowercase letters, digits and dashes; a store URL needs a scheme (file://, s3://, ' +
          'ssh://, ssh-ng://, http://, https://)',
  )
}

function fromUrl(
  url: string,
  what: string,
  name: string | undefined,
  key: string | undefined,
  home: string | undefined,
): Target {
  const scheme = schemeOf.exec(url)?.[1]?.toLowerCase()
  if (!scheme) throw usageError(`${what} is not a store URL`, 'give it a scheme, e.g. file:///mnt/nas/nix-cache')
  if (!isOneOf(storeSchemes, scheme)) {
    throw usageError(
      `${what} has an unsupported scheme "${scheme}://"`,
      `use one of ${storeSchemes.map((s) => `${s}://`).join(', ')}, or a Cachix cache name`,
    )
  }
  // A URL Nix can never open would fail every push, be retried and stay queued for ever: refuse it now.
  const problem = storeUrlProblem(url)
  if (problem) throw usageError(`${what} ${problem.message}`, problem.hint)
  // nix copy cannot upload to Cachix (it needs Cachix's API): a cachix.org URL means the cachix client.
  const cachix = cachixUrl.exec(url)
  if (cachix) return { kind: 'cachix', name: cachix[1]! }
  return { kind: 'store', url, ...(name ? { name } : {}), ...(key ? { secretKeyFile: expandHome(key, home) } : {}) }
}

/** The same cache, whatever credentials either spelling carries. */
export function sameUrl(a: string, b: string): boolean {
  const bare = (u: string) => withoutCredentials(u).replace(/\/+$/, '')
  return bare(a) === bare(b)
}

export function expandHome(path: string, home: string | undefined): string {
  if (!home) return path
  return path === '~' ? home : path.startsWith('~/') ? home + path.slice(1) : path
}

export function schemeOfUrl(url: string): string {
  return schemeOf.exec(url)?.[1]?.toLowerCase() ?? ''
}

/**
 * The URL nix copy writes to. Binary caches sign narinfos with the store's own `secret-key`
 * parameter: on Nix 2.8 `--secret-key-files` signs only paths as they are built, never on copy.
 */
export function copyUrl(target: Extract<Target, { kind: 'store' }>, compression?: CompressionMethod): string {
  if (!binaryCacheSchemes.has(schemeOfUrl(target.url))) return target.url
  const params: [string, string][] = []
  if (target.secretKeyFile && !hasParam(target.url, 'secret-key')) params.push(['secret-key', target.secretKeyFile])
  if (compression && !hasParam(target.url, 'compression')) params.push(['compression', compression])
  if (params.length === 0) return target.url
  const joiner = target.url.includes('?') ? '&' : '?'
  return target.url + joiner + params.map(([k, v]) => `${k}=${v}`).join('&')
}

/** Whether nix copy signs by itself (binary caches) or hms must sign locally first (ssh stores). */
export function signsOnCopy(target: Extract<Target, { kind: 'store' }>): boolean {
  return binaryCacheSchemes.has(schemeOfUrl(target.url))
}

function hasParam(url: string, key: string): boolean {
  const query = url.split('?')[1] ?? ''
  return query.split('&').some((kv) => kv.split('=')[0] === key)
}

/**
 * argv of the push, without the paths: shared by `--plan` and the runner so they never drift.
 * Without exclusions nix copy is handed the roots and takes their closures itself; with them, hms
 * hands it exactly the paths to send (`--no-recursive`).
 */
export function nixCopyArgs(url: string, recursive = true): string[] {
  const copy = ['nix', '--extra-experimental-features', 'nix-command', 'copy', ...(recursive ? [] : ['--no-recursive'])]
  return [...copy, '--to', withoutCredentials(url)]
}

/**
 * Whether nix copy to `url` consults Nix's narinfo lookup cache (`binary-cache-v6.sqlite` under
 * XDG_CACHE_HOME): binary caches do, ssh stores do not. That cache may still say "there" for a path
 * the cache has since lost, and nix copy would skip it and exit 0, so hms runs such a copy with an
 * empty XDG_CACHE_HOME of its own: every answer then comes from the cache, in that session.
 * (`--option narinfo-cache-positive-ttl 0` would do it too, but it also voids Nix's in-memory
 * answers within the session: each upload's references are fetched again, 3× the requests.)
 */
export function usesNarinfoCache(url: string): boolean {
  return binaryCacheSchemes.has(schemeOfUrl(url))
}

/**
 * argv of the signing that runs before the copy, without the paths, where the copy does not sign
 * itself (ssh stores keep the signatures they are sent, so hms signs in the local store first).
 * `recursive` as for nix copy: the paths are roots.
 */
export function signArgs(target: Extract<Target, { kind: 'store' }>, recursive = true): string[] | undefined {
  if (!target.secretKeyFile || signsOnCopy(target)) return undefined
  const sign = ['nix', '--extra-experimental-features', 'nix-command', 'store', 'sign', ...(recursive ? ['-r'] : [])]
  return [...sign, '--key-file', target.secretKeyFile]
}

/** `push.exclude` patterns, checked before anything runs. */
export function compileExclude(patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern, i) => {
    try {
      return new RegExp(pattern)
    } catch (error) {
      throw usageError(
        `push.exclude[${i}] is not a valid regular expression: ${messageOf(error)}`,
        'patterns match store path names, e.g. "-source$"',
      )
    }
  })
}

/** `/nix/store/<hash>-name` → `name`, what `push.exclude` matches. */
export function storeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const dash = base.indexOf('-')
  return dash < 0 ? base : base.slice(dash + 1)
}

export function storeHash(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  return base.split('-')[0] ?? base
}
