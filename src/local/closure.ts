import { ExitCode, HmsError } from '../lib/errors.js'
import { lastLine, plural } from '../lib/format.js'
import { interruption } from '../lib/interrupt.js'
import { which } from '../lib/which.js'
import { capture, type Captured } from '../lib/process.js'
import type { Env } from '../lib/env.js'

/** Exact NAR sizes from the local store; cachix's report rounds them to three digits. */
export async function narSizes(paths: string[], env: Env): Promise<Map<string, number>> {
  const nixStore = which('nix-store', env)
  if (!nixStore || paths.length === 0) return new Map()
  const result = await cosmetic(() => capture(nixStore, ['--query', '--size', ...paths], { env }))
  if (!result) return new Map()
  const sizes = result.stdout.split('\n').map(Number)
  if (result.exitCode !== 0 || sizes.length !== paths.length || sizes.some((n) => !Number.isInteger(n)))
    return new Map()
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

export interface PathInfo {
  path: string
  narSize: number
  references: string[]
}

const nixCommand = ['--extra-experimental-features', 'nix-command']

/** Closure of `roots` in the local store, with sizes and references, from one `nix path-info`. */
export async function closureInfo(roots: string[], env: Env): Promise<Map<string, PathInfo>> {
  if (roots.length === 0) return new Map()
  const nix = which('nix', env)
  if (!nix)
    throw new HmsError('nix not found on PATH', {
      exitCode: ExitCode.notFound,
      hint: 'hms needs Nix to push to or check a store URL',
    })
  const result = await capture(nix, [...nixCommand, 'path-info', '--json', '-r', ...roots], { env, timeoutMs: 120_000 })
  if (result.exitCode !== 0)
    throw new HmsError(
      `cannot read the closure of ${roots.length === 1 ? roots[0] : plural(roots.length, 'path')}: ` +
        `${lastLine(result.stderr)}`,
      { exitCode: ExitCode.usage },
    )
  const infos = pathInfos(result.stdout)
  return new Map(
    infos
      .filter((i) => i.valid !== false)
      .map((i) => [i.path, { path: i.path, narSize: i.narSize ?? 0, references: i.references ?? [] }]),
  )
}

interface RawPathInfo {
  path: string
  narSize?: number
  references?: string[]
  valid?: boolean
}

/**
 * `nix path-info --json`: a list of objects up to Nix 2.18, an object keyed by path (null for an
 * invalid path) from Nix 2.19 on. Anything else is odd output: one clear error, no stack trace.
 */
export function pathInfos(stdout: string): RawPathInfo[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    throw new HmsError('nix path-info printed something that is not JSON', {
      exitCode: ExitCode.usage,
      hint: 'check your Nix installation (nix path-info --json works?)',
    })
  }
  if (Array.isArray(parsed)) return parsed as RawPathInfo[]
  if (parsed && typeof parsed === 'object') {
    return Object.entries(parsed as Record<string, Omit<RawPathInfo, 'path'> | null>).map(([path, info]) =>
      info ? { ...info, path } : { path, valid: false },
    )
  }
  throw new HmsError('nix path-info printed JSON hms does not understand', { exitCode: ExitCode.usage })
}
