import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `<repo>/../shared/third-party`: real third-party code, beside the clone here and in CI, never inside it. */
export const thirdPartyDir = resolve(fileURLToPath(new URL('../../../shared/third-party', import.meta.url)))

/** The home-manager versions hms supports, oldest first, with their archives (when present). */
export const homeManagerVersions = ['release-24.05', 'release-25.11', 'master'] as const
export type HomeManagerVersion = (typeof homeManagerVersions)[number]

export function homeManagerArchive(version: HomeManagerVersion): string | undefined {
  if (!existsSync(thirdPartyDir)) return undefined
  const name = readdirSync(thirdPartyDir).find((f) => f.startsWith(`home-manager-${version}-`) && f.endsWith('.tar.gz'))
  return name && join(thirdPartyDir, name)
}

/** The CLI script of one version, as the archive holds it (placeholders unfilled). */
export function homeManagerScript(archive: string): string {
  return execFileSync('tar', ['-xzOf', archive, 'home-manager/home-manager/home-manager'], { encoding: 'utf8' })
}

/**
 * The options of the script's top-level argument loop and how many values each takes: the
 * patterns of each `case $opt in` arm and the `shift`s in its body (nested cases included).
 */
export function scriptOptions(script: string): Map<string, number> {
  const start = script.indexOf('while [[ $# -gt 0 ]]; do')
  const open = script.indexOf('case $opt in', start)
  const close = script.indexOf('\n    esac', open)
  if (start < 0 || open < 0 || close < 0) throw new Error('no option loop found in the script')
  const lines = script.slice(open, close).split('\n').slice(1)
  const options = new Map<string, number>()
  let patterns: string[] = []
  let shifts = 0
  let inPattern = false
  for (const line of lines) {
    const arm: RegExpExecArray | null = /^ {8}(\S.*)$/.exec(line) ?? (inPattern ? /^ {12}(\|.*)$/.exec(line) : null)
    if (arm && !inPattern && !line.trim().startsWith('#')) {
      patterns = []
      shifts = 0
    }
    if (arm) {
      const text = arm[1]!.replace(/\\$/, '')
      patterns.push(
        ...text
          .replace(/\)$/, '')
          .split('|')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      inPattern = !arm[1]!.endsWith(')')
      continue
    }
    const shift = /^\s+shift(?: (\d+))?\s*$/.exec(line)
    if (shift) shifts += Number(shift[1] ?? 1)
    if (/^ {12};;\s*$/.test(line)) {
      for (const p of patterns) if (p.startsWith('-')) options.set(p, shifts)
      patterns = []
    }
  }
  return options
}

/**
 * Unpacks one version into `dir` and fills the script's `@placeholders@` with this machine's tools,
 * as home-manager/default.nix fills them with store paths. Returns the runnable `bin/` directory.
 */
export function installHomeManager(archive: string, dir: string): string {
  execFileSync('tar', ['-xzf', archive, '-C', dir])
  const tree = join(dir, 'home-manager')
  const script = homeManagerScript(archive)
    .replaceAll('@bash@', '')
    .replaceAll('@DEP_PATH@', '/usr/bin:/bin')
    .replaceAll('@HOME_MANAGER_LIB@', join(tree, 'lib/bash/home-manager.sh'))
    .replaceAll('@HOME_MANAGER_PATH@', tree)
    .replaceAll('@OUT@', join(dir, 'out'))
  const left = /@[A-Za-z_]+@/.exec(script)
  if (left) throw new Error(`unfilled placeholder ${left[0]} in ${archive}`)
  const bin = join(dir, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'home-manager'), script, { mode: 0o755 })
  return bin
}
