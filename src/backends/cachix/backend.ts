import { cachixPushCommand } from '../../plan/plan.js'
import type { CacheBackend } from '../backend.js'
import { reportComplete, withBypass } from './cachix.js'

/**
 * A Cachix cache, through the cachix CLI: watch-exec during the switch, `cachix push` after it.
 * What runs is loaded on first use: `--plan` only describes, and must not pay for the runtime.
 */
export function cachixBackend(name: string): CacheBackend {
  const url = `https://${name}.cachix.org`
  return {
    url,
    blocker: async (env) => (await import('./preflight.js')).checkCachix(env),
    watch: async (plan, ctx) => (await import('./watch-exec.js')).watchExec(plan, ctx),
    runs: (plan) => withBypass(plan.command),
    complete: reportComplete,
    pushCommand: (paths, settings) => cachixPushCommand({ cache: name, paths, ...settings }),
    push: async (request, ctx) => (await import('./push.js')).cachixPushOnce(request, ctx),
    present: async (paths, env, limits) => {
      const { defaultLimits, presentOverHttp } = await import('../store/presence.js')
      // Never printed: private caches take the same token cachix uses.
      const token = env.CACHIX_AUTH_TOKEN
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
      return presentOverHttp(url, paths, limits ?? defaultLimits, headers, `Cachix cache ${name}`)
    },
  }
}
