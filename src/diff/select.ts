import { realpathSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { usageError } from '../lib/errors.js'
import { currentGeneration, listGenerations, profileCandidates, type Generation } from '../local/generation.js'
import type { Env } from '../lib/env.js'

/** One side of a diff: a generation's store path, and its number when the profile has it. */
export interface Side {
  generation: number | null
  path: string
}

/** A generation's store path: what home-manager's `home-manager-generation` derivation builds. */
const generationPath = /^\/nix\/store\/[0-9a-z]{32}-home-manager-generation$/

/**
 * What `hms diff [A] [B]` compares: numbers as `home-manager generations` lists them, or paths
 * (links such as ./result followed) to generations; A defaults to the generation before the
 * current one, B to the current one. Anything else is a usage error.
 */
export function selectSides(words: string[], io: { env: Env; cwd: string }): [Side, Side] {
  if (words.length > 2) throw usageError(`hms diff compares two generations, got ${words.length} arguments`)
  const generations = listGenerations(io.env)
  const given = words.map((word) => sideOf(word, generations, io.cwd))
  if (given.length === 2) return [given[0]!, given[1]!]
  const current = currentGeneration(io.env)
  if (!current) {
    throw usageError('no home-manager generation found', `looked at ${profileCandidates(io.env).join(' and ')}`)
  }
  const now = { generation: current.number, path: current.path }
  if (given.length === 1) return [given[0]!, now]
  const previous = generations.filter((g) => g.number < current.number).at(-1)
  if (!previous) throw usageError(`generation ${current.number} is the first one: there is none before it to compare`)
  return [{ generation: previous.number, path: previous.path }, now]
}

function sideOf(word: string, generations: Generation[], cwd: string): Side {
  if (/^\d+$/.test(word)) {
    const found = generations.find((g) => g.number === Number(word))
    if (!found) {
      const known = generations.map((g) => g.number).join(', ') || 'none'
      throw usageError(`no generation ${word}`, `generations: ${known} (as home-manager generations lists them)`)
    }
    return { generation: found.number, path: found.path }
  }
  let real: string
  try {
    real = realpathSync(isAbsolute(word) ? word : join(cwd, word))
  } catch {
    throw usageError(`${word} is neither a generation number nor an existing path`)
  }
  if (!generationPath.test(real)) {
    // The resolved path only when it says more than what was typed (a link, a relative path).
    throw usageError(`${word} is not a home-manager generation${real === word ? '' : ` (${real})`}`)
  }
  return { generation: generations.find((g) => g.path === real)?.number ?? null, path: real }
}
