import type { PackageDiff } from '../plan/schema.js'
import { parseStoreName, storeName, type DrvName } from './parse-name.js'

/** A closure from the local store: each path with its NAR size. */
export type Closure = Map<string, number>

/**
 * What changed between two closures, package by package. A package is a closure entry with a name
 * and a version, grouped by name as `nix store diff-closures` groups them (output suffixes such as
 * `-bin`, `-man` set apart, so one package's outputs count once): a name only after is added, only
 * before removed, and one whose set of versions differs is changed; each name is one entry, its
 * versions joined with `, `. Entries without a version
 * (`home-manager-files`, `hm-session-vars.sh`) are hms's and nixpkgs' plumbing, not packages.
 */
export function computeDiff(before: Closure, after: Closure): PackageDiff {
  // Most paths are in both closures: each is parsed once.
  const parsed = new Map<string, DrvName>()
  const old = versionsByName(before, parsed)
  const now = versionsByName(after, parsed)
  const diff: PackageDiff = {
    added: [],
    removed: [],
    changed: [],
    closureBytesBefore: sum(before),
    closureBytesAfter: sum(after),
  }
  for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const from = [...(old.get(name) ?? [])].sort()
    const to = [...(now.get(name) ?? [])].sort()
    // One entry per name, its versions joined, as diff-closures prints `python3: ∅ → 3.11.9, 3.12.4`.
    if (from.length === 0) diff.added.push({ name, version: to.join(', ') })
    else if (to.length === 0) diff.removed.push({ name, version: from.join(', ') })
    else if (from.join('\n') !== to.join('\n')) diff.changed.push({ name, from: from.join(', '), to: to.join(', ') })
  }
  return diff
}

function versionsByName(closure: Closure, parsed: Map<string, DrvName>): Map<string, Set<string>> {
  const byName = new Map<string, Set<string>>()
  for (const path of closure.keys()) {
    const drv = parsed.get(path) ?? parseStoreName(storeName(path))
    parsed.set(path, drv)
    const { name, version } = drv
    if (version === '') continue
    const versions = byName.get(name) ?? new Set<string>()
    byName.set(name, versions.add(version))
  }
  return byName
}

function sum(closure: Closure): number {
  let total = 0
  for (const bytes of closure.values()) total += bytes
  return total
}
