import { HmsError } from '../lib/errors.js'
import { which } from '../lib/which.js'
import { capture } from '../lib/process.js'
import type { Closure } from './compute.js'
import type { Env } from '../lib/env.js'

/**
 * The closures of `roots`, each path with its NAR size, from the local store only, in one
 * `nix path-info -r --json` of all the roots: its references tell the closures apart. Measured on
 * two 2,000-path generations with the machine under load: one call ~115 ms (median), one
 * `nix path-info -rs` per root side by side ~300 ms, `nix store diff-closures` itself ~155 ms.
 */
export async function queryClosures(roots: string[], env: Env, timeoutMs = 30_000): Promise<Closure[]> {
  const nix = which('nix', env)
  if (!nix) throw new HmsError('nix not found on PATH', { exitCode: 1 })
  const args = ['--extra-experimental-features', 'nix-command', 'path-info', '--recursive', '--json', ...roots]
  const result = await capture(nix, args, { env, timeoutMs })
  if (result.timedOut) throw new HmsError(`nix path-info took over ${timeoutMs / 1000}s`, { exitCode: 1 })
  if (result.exitCode !== 0) {
    const why = result.stderr.trim().split('\n').at(-1)?.replace(/^error: /, '') || `exit ${result.exitCode}`
    throw new HmsError(`nix path-info failed: ${why}`, { exitCode: 1 })
  }
  const infos = parsePathInfo(result.stdout)
  return roots.map((root) => closureOf(root, infos))
}

interface Info {
  narSize: number
  references: string[]
}

/** Nix up to 2.18 prints an array of `{ path, narSize, references }`; later ones an object by path. */
export function parsePathInfo(text: string): Map<string, Info> {
  const json: unknown = JSON.parse(text)
  const entries = Array.isArray(json)
    ? json.map((item: { path: string } & Info) => [item.path, item] as const)
    : Object.entries(json as Record<string, Info>)
  return new Map(entries.map(([path, info]) => [path, { narSize: info.narSize, references: info.references ?? [] }]))
}

/** Everything `root` refers to, directly or not, itself included, with NAR sizes. */
function closureOf(root: string, infos: Map<string, Info>): Closure {
  const closure: Closure = new Map()
  const todo = [root]
  for (let path = todo.pop(); path !== undefined; path = todo.pop()) {
    if (closure.has(path)) continue
    const info = infos.get(path)
    if (!info) throw new HmsError(`nix path-info did not describe ${path}`, { exitCode: 1 })
    closure.set(path, info.narSize)
    todo.push(...info.references)
  }
  return closure
}
