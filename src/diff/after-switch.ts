import type { Generation } from '../local/generation.js'
import type { PackageDiff } from '../plan/schema.js'
import { queryClosures } from './closures.js'
import { computeDiff } from './compute.js'
import { messageOf } from '../lib/errors.js'
import type { Env } from '../lib/env.js'

/**
 * The diff a switch prints, started as soon as the new generation is linked and awaited only for
 * the summary, so it runs beside the push. It never throws: the switch is done whatever happens
 * here, and any failure becomes one note. No new generation: no diff.
 */
export async function diffAfterSwitch(
  before: Generation | undefined,
  after: Generation | undefined,
  env: Env,
): Promise<{ diff: PackageDiff | null; note?: string }> {
  if (!before || !after || (before.number === after.number && before.path === after.path)) return { diff: null }
  try {
    const [old, now] = await queryClosures([before.path, after.path], env, 15_000)
    return { diff: computeDiff(old!, now!) }
  } catch (error) {
    // One line, whatever the error says: it is a note under the summary.
    const why = messageOf(error).split('\n')[0]
    return { diff: null, note: `no package diff of generations ${before.number} → ${after.number}: ${why}` }
  }
}
