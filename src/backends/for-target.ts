import type { Target } from '../plan/target.js'
import type { CacheBackend } from './backend.js'
import { cachixBackend } from './cachix/backend.js'
import { storeBackend } from './store/backend.js'

/** The one place the kind of a cache is looked at to pick how to push to it. */
export function backendFor(target: Target): CacheBackend {
  return target.kind === 'store' ? storeBackend(target) : cachixBackend(target.name)
}

/** A push's backend: its target, or (a queue entry written before targets were kept) the Cachix cache it names. */
export function backendOf(push: { target?: Target; cache: string }): CacheBackend {
  return backendFor(push.target ?? { kind: 'cachix', name: push.cache })
}
