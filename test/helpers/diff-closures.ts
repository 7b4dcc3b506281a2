// What `nix store diff-closures` (Nix 2.8) says changed, and hms's diff put in the same terms, so
// tests compare the two: per name, the versions removed and the versions added.
import type { PackageDiff } from '../../src/plan/schema.js'
import type { Sandbox } from './sandbox.js'

export type VersionChanges = Record<string, { removed: string[]; added: string[] }>

const nixCommand = ['--extra-experimental-features', 'nix-command']

/**
 * diff-closures' lines `name: 1.0, 2.0 → 3.0, +10.9 KiB`. A line with only a size change is no
 * version change; ε (no version) is left out, as hms counts only paths with a version, unless asked for.
 */
export async function diffClosures(
  s: Sandbox,
  before: string,
  after: string,
  epsilon = false,
): Promise<VersionChanges> {
  const run = await s.run('nix', [...nixCommand, 'store', 'diff-closures', before, after])
  if (run.exitCode !== 0) throw new Error(`nix store diff-closures failed: ${run.stderr}`)
  const changes: VersionChanges = {}
  // eslint-disable-next-line no-control-regex
  for (const raw of run.stdout.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const line = raw.replace(/, [+-][\d.]+ KiB$/, '')
    const colon = line.indexOf(': ')
    if (colon < 0 || !line.includes(' → ')) continue
    const [from, to] = line.slice(colon + 2).split(' → ') as [string, string]
    const versions = (side: string) => (side === '∅' ? [] : side.split(', ').filter((v) => epsilon || v !== 'ε'))
    const entry = { removed: versions(from).sort(), added: versions(to).sort() }
    if (entry.removed.length + entry.added.length > 0) changes[line.slice(0, colon)] = entry
  }
  return changes
}

/** hms's diff in diff-closures' terms; a name listed twice (diff-closures prints each once) is an error. */
export function asVersionChanges(diff: PackageDiff): VersionChanges {
  const changes: VersionChanges = {}
  const entry = (name: string) => {
    if (changes[name]) throw new Error(`${name} is listed twice in hms's diff`)
    const fresh = { removed: [] as string[], added: [] as string[] }
    changes[name] = fresh
    return fresh
  }
  for (const a of diff.added) entry(a.name).added.push(...a.version.split(', '))
  for (const r of diff.removed) entry(r.name).removed.push(...r.version.split(', '))
  for (const c of diff.changed) {
    const from = c.from.split(', ')
    const to = c.to.split(', ')
    const e = entry(c.name)
    e.removed.push(...from.filter((v) => !to.includes(v)))
    e.added.push(...to.filter((v) => !from.includes(v)))
  }
  for (const e of Object.values(changes)) {
    e.removed.sort()
    e.added.sort()
  }
  return changes
}

/** The closure's total NAR size, as `nix path-info -S` sums it. */
export async function closureBytes(s: Sandbox, path: string): Promise<number> {
  const run = await s.run('nix', [...nixCommand, 'path-info', '--closure-size', path])
  if (run.exitCode !== 0) throw new Error(`nix path-info -S failed: ${run.stderr}`)
  return Number(run.stdout.trim().split(/\s+/)[1])
}
