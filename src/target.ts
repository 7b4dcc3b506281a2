import type { CacheEntry } from './config.js'
import { usageError } from './errors.js'

/** Where a push goes: a Cachix cache (through the cachix client) or any Nix store URL (through nix copy). */
export type Target =
  | { kind: 'cachix'; name: string }
  | { kind: 'store'; url: string; name?: string; secretKeyFile?: string }

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
 * the target. Pure; `home` expands `~` in key paths.
 */
export function resolveTarget(ref: string, caches: Caches, home: string | undefined, from = 'config'): Target {
  if (schemeOf.test(ref)) {
    const named = Object.entries(caches).find(([, entry]) => sameUrl(entry.url, ref))
    return fromUrl(ref, `"${ref}" (from ${from})`, named?.[0], named?.[1].secretKeyFile, home)
  }
  const entry = Object.hasOwn(caches, ref) ? caches[ref] : undefined
  if (entry) return fromUrl(entry.url, `caches.${ref}.url "${entry.url}"`, ref, entry.secretKeyFile, home)
  if (cachixName.test(ref)) return { kind: 'cachix', name: ref }
  const known = Object.keys(caches)
  throw usageError(
    `cache "${ref}" (from ${from}) is neither a Cachix cache name nor one of the caches in config`,
    ref.startsWith('/') ? `a directory cache is a URL: file://${ref}`
      : known.length ? `configured caches: ${known.join(', ')}; a store URL needs a scheme (file://, s3://, ssh://, ssh-ng://, http://, https://)`
      : 'Cachix names are lowercase letters, digits and dashes; a store URL needs a scheme (file://, s3://, ssh://, ssh-ng://, http://, https://)',
  )
}

function fromUrl(url: string, what: string, name: string | undefined, key: string | undefined, home: string | undefined): Target {
  const scheme = schemeOf.exec(url)?.[1]?.toLowerCase()
  if (!scheme) throw usageError(`${what} is not a store URL`, 'give it a scheme, e.g. file:///mnt/nas/nix-cache')
  if (!(storeSchemes as readonly string[]).includes(scheme)) {
    throw usageError(`${what} has an unsupported scheme "${scheme}://"`, `use one of ${storeSchemes.map((s) => `${s}://`).join(', ')}, or a Cachix cache name`)
  }
  // `file://relcache` names no directory nix can open; every push to it would fail and wait forever.
  if (scheme === 'file' && !/^file:\/\/\//i.test(url)) {
    throw usageError(`${what} is not an absolute file:// URL`, `a directory cache is file:// plus an absolute path, e.g. file:///${url.slice('file://'.length)}`)
  }
  // nix copy cannot upload to Cachix (it needs Cachix's API): a cachix.org URL means the cachix client.
  const cachix = cachixUrl.exec(url)
  if (cachix) return { kind: 'cachix', name: cachix[1]! }
  return { kind: 'store', url, ...(name ? { name } : {}), ...(key ? { secretKeyFile: expandHome(key, home) } : {}) }
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '')
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
export function copyUrl(target: Extract<Target, { kind: 'store' }>, compression?: 'xz' | 'zstd'): string {
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

/** argv of the push, without the paths: shared by `--plan` and the runner so they never drift. */
export function nixCopyArgs(url: string): string[] {
  return ['nix', '--extra-experimental-features', 'nix-command', 'copy', '--no-recursive', '--to', url]
}

/** `push.exclude` patterns, checked before anything runs. */
export function compileExclude(patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern, i) => {
    try {
      return new RegExp(pattern)
    } catch (error) {
      throw usageError(`push.exclude[${i}] is not a valid regular expression: ${(error as Error).message}`, 'patterns match store path names, e.g. "-source$"')
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

