import { printable } from '../../lib/format.js'
import { withoutCredentials } from '../../plan/store-url.js'
import { copyUrl, nixCopyArgs, signArgs, type StoreTarget } from '../../plan/target.js'
import type { CacheBackend } from '../backend.js'

/**
 * Any Nix store URL, through `nix copy`: hms's post-build hook records what the switch builds.
 * What runs is loaded on first use: `--plan` only describes, and must not pay for the runtime.
 */
export function storeBackend(target: StoreTarget): CacheBackend {
  return {
    url: withoutCredentials(target.url),
    needsCachix: false,
    // Nothing to install or log in to: Nix itself is checked before every switch.
    blocker: async () => undefined,
    watch: async (plan, ctx, switched) => {
      const ran = await (await import('./pusher.js')).storeWatch(plan, ctx, switched)
      return ran.tally.refusal ? { ...ran, refused: ran.tally.refusal } : ran
    },
    runs: (plan) => plan.homeManager,
    // hms pushes after home-manager exits: a signal or an interrupt may have cut that push short.
    complete: (ran) => Boolean(ran.tally) && !ran.outcome.signal && !ran.outcome.interrupted,
    // nix copy is given each path's closure; --plan shows the roots it starts from.
    pushCommand: (paths, { compressionMethod }) => [...nixCopyArgs(copyUrl(target, compressionMethod)), ...paths],
    signCommand: (paths) => {
      const sign = signArgs(target)
      return sign && [...sign, ...paths]
    },
    push: async (request, ctx) => {
      const { compressionMethod } = request
      const method = compressionMethod === 'xz' || compressionMethod === 'zstd' ? compressionMethod : undefined
      const options = { target, label: printable(request.cache), exclude: request.exclude ?? [] }
      const { storePushRoots } = await import('./pusher.js')
      return storePushRoots(request.paths, { ...options, ...(method ? { compressionMethod: method } : {}) }, ctx)
    },
    present: async (paths, env, limits) => (await import('./presence.js')).presentIn(target, paths, env, limits),
    probe: async (env, limits) => (await import('./probe.js')).probeStore(target, env, limits),
  }
}
