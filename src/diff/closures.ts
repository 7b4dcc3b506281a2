import { ExitCode, HmsError, messageOf } from '../lib/errors.js'
import { which } from '../lib/which.js'
import { capture } from '../lib/process.js'
import { pathInfos } from '../local/closure.js'
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
    const why =
      result.stderr
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/^error: /, '') || `exit ${result.exitCode}`
    throw new HmsError(`nix path-info failed: ${why}`, { exitCode: 1 })
  }
  const infos = new Map(
    infosIn(result.stdout)
      .filter((info) => info.valid !== false)
      .map((info) => [info.path, info]),
  )
  return roots.map((root) => closureOf(root, infos))
}

/** local/closure.ts reads both JSON formats; odd output is the store failing: exit 1, like the diff's other errors. */
function infosIn(stdout: string): ReturnType<typeof pathInfos> {
  try {
    return pathInfos(stdout)
  } catch (error) {
    const hint = error instanceof HmsError ? error.hint : undefined
    throw new HmsError(messageOf(error), { exitCode: ExitCode.failure, hint })
  }
}

interface Info {
  narSize?: number
  references?: string[]
}

/** Everything `root` refers to, directly or not, itself included, with NAR sizes. */
function closureOf(root: string, infos: Map<string, Info>): Closure {
  const closure: Closure = new Map()
  const todo = [root]
  for (let path = todo.pop(); path !== undefined; path = todo.pop()) {
    if (closure.has(path)) continue
    const info = infos.get(path)
    if (!info) throw new HmsError(`nix path-info did not describe ${path}`, { exitCode: 1 })
    closure.set(path, info.narSize ?? 0)
    todo.push(...(info.references ?? []))
  }
  return closure
}
