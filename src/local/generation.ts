import { readlinkSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

type Env = Record<string, string | undefined>

export interface Generation {
  number: number
  /** The `…-home-manager-generation` store path. */
  path: string
}

/** Where home-manager keeps its generations; the XDG location wins when it exists. */
export function profileCandidates(env: Env): string[] {
  const state = env.XDG_STATE_HOME || join(env.HOME ?? '', '.local', 'state')
  const user = env.USER ?? env.LOGNAME ?? ''
  return [join(state, 'nix', 'profiles', 'home-manager'), `/nix/var/nix/profiles/per-user/${user}/home-manager`]
}

export function currentGeneration(env: Env): Generation | undefined {
  for (const profile of profileCandidates(env)) {
    const generation = readGeneration(profile)
    if (generation) return generation
  }
  return undefined
}

function readGeneration(profile: string): Generation | undefined {
  try {
    const link = readlinkSync(profile)
    const number = Number(/-(\d+)-link$/.exec(link)?.[1])
    const path = realpathSync(resolve(dirname(profile), link))
    return Number.isInteger(number) ? { number, path } : undefined
  } catch {
    return undefined
  }
}
