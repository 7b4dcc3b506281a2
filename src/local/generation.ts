import { readdirSync, readlinkSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Env } from '../lib/env.js'

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

/**
 * Every generation of the profile in use, oldest first, as `home-manager generations` finds them:
 * the `home-manager-N-link` links beside the profile link.
 */
export function listGenerations(env: Env): Generation[] {
  for (const profile of profileCandidates(env)) {
    if (!readGeneration(profile)) continue
    const dir = dirname(profile)
    const found: Generation[] = []
    for (const name of readdirSync(dir)) {
      const number = Number(/^home-manager-(\d+)-link$/.exec(name)?.[1])
      if (!Number.isInteger(number)) continue
      try {
        found.push({ number, path: realpathSync(join(dir, name)) })
      } catch {
        // A link whose target was collected is no generation any more.
      }
    }
    return found.sort((a, b) => a.number - b.number)
  }
  return []
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
