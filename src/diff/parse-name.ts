/** A store path name read the way Nix reads it: `hello-2.12.1` → hello, 2.12.1. */
export interface DrvName {
  name: string
  /** '' when the name has none (`home-manager-path`, `hm-session-vars.sh`). */
  version: string
}

const dash = 45
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)

/**
 * `builtins.parseDrvName` (Nix's `DrvName`): the version starts after the first `-` that is followed
 * by anything but an ASCII letter, so `font-bh-100dpi-1.0.3` is font-bh at 100dpi-1.0.3 and
 * `foo-unstable-2023-01-01` is foo-unstable at 2023-01-01.
 */
export function parseDrvName(text: string): DrvName {
  for (let i = 0; i + 1 < text.length; i++) {
    if (text.charCodeAt(i) === dash && !isLetter(text.charCodeAt(i + 1))) {
      return { name: text.slice(0, i), version: text.slice(i + 1) }
    }
  }
  return { name: text, version: '' }
}

/**
 * An output's suffix, set apart before parsing as `nix store diff-closures` does with
 * `(.*)-([a-z]+|lib32|lib64)` (its own comment: ambiguous, a version ending in letters loses them
 * too): `git-2.42.0-doc` is git 2.42.0, and `home-manager-path` is home-manager. No letter or
 * digit of the suffix is a `-`, so it starts after the last one.
 */
const outputSuffix = /^(?:[a-z]+|lib32|lib64)$/

/** A store path's package name and version, its output suffix set apart (diff-closures' grouping). */
export function parseStoreName(storeName: string): DrvName & { output: string } {
  const last = storeName.lastIndexOf('-')
  const output = last >= 0 && outputSuffix.test(storeName.slice(last + 1)) ? storeName.slice(last + 1) : ''
  return { ...parseDrvName(output ? storeName.slice(0, last) : storeName), output }
}

/** The name part of `/nix/store/<hash>-<name>`. */
export function storeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  return /^[0-9a-z]{32}-/.test(base) ? base.slice(33) : base
}
