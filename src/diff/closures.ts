import { HmsError } from '../lib/errors.js'
import { which } from '../lib/which.js'
import { capture } from '../lib/process.js'
import type { Closure } from './compute.js'

type Env = Record<string, string | undefined>

/**
 * The closures of `roots`, each path with its NAR size, from the local store only: one
 * `nix path-info -rs` per root, run side by side (measured: as fast as one call for both, and each
 * closure comes apart without a reference graph). Text, not `--json`, whose shape changed in Nix 2.19.
 */
export async function queryClosures(roots: string[], env: Env, timeoutMs = 30_000): Promise<Closure[]> {
  const nix = which('nix', env)
  if (!nix) throw new HmsError('nix not found on PATH', { exitCode: 1 })
  return Promise.all(roots.map(async (root) => {
    const args = ['--extra-experimental-features', 'nix-command', 'path-info', '--recursive', '--size', root]
    const result = await capture(nix, args, { env, timeoutMs })
    if (result.timedOut) throw new HmsError(`nix path-info ${root} took over ${timeoutMs / 1000}s`, { exitCode: 1 })
    if (result.exitCode !== 0) {
      const why = result.stderr.trim().split('\n').at(-1)?.replace(/^error: /, '') || `exit ${result.exitCode}`
      throw new HmsError(`nix path-info failed: ${why}`, { exitCode: 1 })
    }
    return parsePathInfo(result.stdout)
  }))
}

/** `/nix/store/…-hello-2.12   \t   53728` lines. */
export function parsePathInfo(text: string): Closure {
  const closure: Closure = new Map()
  for (const line of text.split('\n')) {
    const [path, size] = line.trim().split(/\s+/)
    if (path && size && /^\d+$/.test(size)) closure.set(path, Number(size))
  }
  return closure
}
