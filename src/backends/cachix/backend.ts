import { defaultLimits, presentOverHttp } from '../store/presence.js'
import { cachixPushCommand } from '../../plan/plan.js'
import type { CacheBackend } from '../backend.js'
import { withBypass } from './cachix.js'
import { checkCachix } from './preflight.js'
import { cachixPushOnce } from './push.js'
import { reportComplete, watchExec } from './watch-exec.js'

/** A Cachix cache, through the cachix CLI: watch-exec during the switch, `cachix push` after it. */
export function cachixBackend(name: string): CacheBackend {
  const url = `https://${name}.cachix.org`
  return {
    url,
    blocker: checkCachix,
    watch: watchExec,
    runs: (plan) => withBypass(plan.command),
    complete: reportComplete,
    pushCommand: (paths, settings) => cachixPushCommand({ cache: name, paths, ...settings }),
    push: cachixPushOnce,
    // Never printed: private caches take the same token cachix uses.
    present: (paths, env, limits = defaultLimits) => presentOverHttp(url, paths, limits,
      env.CACHIX_AUTH_TOKEN ? { authorization: `Bearer ${env.CACHIX_AUTH_TOKEN}` } : {}, `Cachix cache ${name}`),
  }
}
