import { realpathSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { HmsError, usageError } from '../lib/errors.js'
import { currentGeneration, profileCandidates } from './generation.js'

/**
 * What `hms push` and `hms verify` work on: explicit paths (links like ./result resolved), or the current generation.
 */
export function resolveRoots(
  positionals: string[],
  io: { env: Record<string, string | undefined>; cwd: string },
): { roots: string[]; generation: number | null } {
  if (positionals.length === 0) {
    const current = currentGeneration(io.env)
    if (!current)
      throw new HmsError('no home-manager generation found', {
        hint: `looked at ${profileCandidates(io.env).join(' and ')}; switch first, or pass store paths`,
      })
    return { roots: [current.path], generation: current.number }
  }
  const roots = positionals.map((p) => {
    let real: string
    try {
      real = realpathSync(isAbsolute(p) ? p : join(io.cwd, p))
    } catch {
      throw usageError(`${p} does not exist`, 'pass store paths such as /nix/store/…-home-manager-generation')
    }
    if (!/^\/nix\/store\/[0-9a-z]{32}-[^/]+$/.test(real)) throw usageError(`${p} is not a store path (${real})`)
    return real
  })
  return { roots, generation: null }
}
