import type { QueueTarget } from './state.js'
import { withoutCredentials } from '../plan/store-url.js'
import type { Target } from '../plan/target.js'

/** Query parameters that may carry a secret (or point at one): never written to the queue. */
const sensitive = /pass|token|secret|cred|auth/i

/**
 * What a queue entry remembers of its target: the kind and the URL without credentials (no
 * `user:password@`, no secret-looking parameters), or the Cachix name. Enough to notice that a
 * name now means another cache, never enough to leak one.
 */
export function queueTarget(target: Target): QueueTarget {
  if (target.kind === 'cachix') return { kind: 'cachix', name: target.name }
  return { kind: 'store', url: storedUrl(target.url) }
}

/** The URL as the queue keeps it: no userinfo secret (store-url.ts), no secret-looking parameter, no trailing `/`. */
export function storedUrl(url: string): string {
  const [base = '', query] = withoutCredentials(url).split(/\?(.*)/s, 2)
  const kept = (query ?? '').split('&').filter((kv) => kv && !sensitive.test(kv.split('=')[0] ?? ''))
  return base.replace(/\/+$/, '') + (kept.length ? `?${kept.join('&')}` : '')
}

export function sameTarget(a: QueueTarget, b: QueueTarget): boolean {
  return a.kind === 'cachix' ? b.kind === 'cachix' && a.name === b.name : b.kind === 'store' && a.url === b.url
}

export function describeTarget(t: QueueTarget): string {
  return t.kind === 'cachix' ? `the Cachix cache ${t.name}` : t.url
}
