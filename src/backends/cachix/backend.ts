import { cachixPushCommand } from '../../plan/plan.js'
import type { CacheBackend } from '../backend.js'
import { reportComplete, withBypass } from './cachix.js'
import type { Env } from '../../lib/env.js'

/** Never printed: private caches take the same token cachix uses. */
function tokenHeaders(env: Env): Record<string, string> {
  const token = env.CACHIX_AUTH_TOKEN
  return token ? { authorization: `Bearer ${token}` } : {}
}

/**
 * A Cachix cache, through the cachix CLI: watch-exec during the switch, `cachix push` after it.
 * What runs is loaded on first use: `--plan` only describes, and must not pay for the runtime.
 */
export function cachixBackend(name: string): CacheBackend {
  const url = `https://${name}.cachix.org`
  const label = `Cachix cache ${name}`
  return {
    url,
    needsCachix: true,
    blocker: async (env, timeoutMs) => (await import('./preflight.js')).checkCachix(env, timeoutMs),
    watch: async (plan, ctx) => (await import('./watch-exec.js')).watchExec(plan, ctx),
    runs: (plan) => withBypass(plan.command),
    complete: reportComplete,
    pushCommand: (paths, settings) => cachixPushCommand({ cache: name, paths, ...settings }),
    // cachix signs with the cache's own key as it uploads.
    signCommand: () => undefined,
    push: async (request, ctx) => (await import('./push.js')).cachixPushOnce(request, ctx),
    present: async (paths, env, limits) => {
      const { defaultLimits, presentOverHttp } = await import('../store/presence.js')
      return presentOverHttp(url, paths, limits ?? defaultLimits, tokenHeaders(env), label)
    },
    probe: async (env, limits) =>
      (await import('../store/probe.js')).probeHttp(url, tokenHeaders(env), label, limits, {
        notFound: 'check the cache name, or create it (app.cachix.org)',
        privateOk: `${label} answers (private: hms has no token to read it, cachix pushes with its own login)`,
      }),
  }
}
