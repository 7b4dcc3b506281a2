import { HmsError } from '../lib/errors.js'
import { interruption } from '../lib/interrupt.js'
import { which } from '../lib/which.js'
import { capture, type Captured } from '../lib/process.js'

type Env = Record<string, string | undefined>

/** Exact NAR sizes from the local store; cachix's report rounds them to three digits. */
export async function narSizes(paths: string[], env: Env): Promise<Map<string, number>> {
  const nixStore = which('nix-store', env)
  if (!nixStore || paths.length === 0) return new Map()
  const result = await cosmetic(() => capture(nixStore, ['--query', '--size', ...paths], { env }))
  if (!result) return new Map()
  const sizes = result.stdout.split('\n').map(Number)
  if (result.exitCode !== 0 || sizes.length !== paths.length || sizes.some((n) => !Number.isInteger(n))) return new Map()
  return new Map(paths.map((path, i) => [path, sizes[i]!]))
}

/** How many paths the closures of `roots` hold, from the local store; undefined when it cannot tell. */
export async function closureSize(roots: string[], env: Env): Promise<number | undefined> {
  const nixStore = which('nix-store', env)
  if (!nixStore || roots.length === 0) return undefined
  const result = await cosmetic(() => capture(nixStore, ['--query', '--requisites', ...roots], { env }))
  return result?.exitCode === 0 ? result.stdout.split('\n').filter(Boolean).length : undefined
}

/**
 * Sizes and counts only decorate the summary. A signal while one is asked, during a run that
 * handles signals (interrupt.ts), must not cost that run its summary and queue: settle sees the
 * signal and queues; here the answer is simply missing.
 */
async function cosmetic(ask: () => Promise<Captured>): Promise<Captured | undefined> {
  try {
    return await ask()
  } catch (error) {
    if (error instanceof HmsError && error.signal && interruption()) return undefined
    throw error
  }
}

/** The closure of `root` from the local store; undefined when it cannot tell. */
export async function closureOf(root: string, env: Env): Promise<Set<string> | undefined> {
  const nixStore = which('nix-store', env)
  if (!nixStore) return undefined
  const result = await capture(nixStore, ['--query', '--requisites', root], { env })
  return result.exitCode === 0 ? new Set(result.stdout.split('\n').filter(Boolean)) : undefined
}
