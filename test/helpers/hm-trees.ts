// The real home-manager and nixpkgs lib from <repo>/../shared/third-party (see its README) as trees
// unpacked into a temp dir for the Nix evaluation tests. Never copied into the project.
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'

export const root = fileURLToPath(new URL('../..', import.meta.url))
const archives = join(root, '..', 'shared', 'third-party')

export type HmVersion = 'master' | '25.11' | '24.05'

export interface ThirdParty {
  dir: string
  /** A nixpkgs-like tree: the real lib/ plus nix/tests/nixpkgs/{default.nix,nixos} (what pkgs.path must hold). */
  nixpkgs: string
  /** The `home-manager/` tree (lib/, modules/) of each version. */
  homeManager: Record<HmVersion, string>
}

/** home-manager's modules read release.json, which the archives leave out; its values as upstream has them. */
const releases: Record<HmVersion, { prefix: string; release: string; isReleaseBranch: boolean }> = {
  master: { prefix: 'home-manager-master-', release: '26.11', isReleaseBranch: false },
  '25.11': { prefix: 'home-manager-release-25.11-', release: '25.11', isReleaseBranch: true },
  '24.05': { prefix: 'home-manager-release-24.05-', release: '24.05', isReleaseBranch: true },
}

// Nix 2.8 has no builtins.readFileType; older nixpkgs had this fallback (third-party/README.md).
const readFileTypeLine = '  pathType = builtins.readFileType;'
const readFileTypeFallback =
  '  pathType = builtins.readFileType or (path: if dirOf path == path then "directory"' +
  ' else (builtins.readDir (dirOf path)).${baseNameOf path});'

async function archive(prefix: string): Promise<string> {
  const name = (await readdir(archives)).find((f) => f.startsWith(prefix) && f.endsWith('.tar.gz'))
  if (!name) throw new Error(`no ${prefix}*.tar.gz in ${archives}`)
  return join(archives, name)
}

async function untar(file: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true })
  await execa('tar', ['-xzf', file, '-C', into])
}

export async function unpackThirdParty(): Promise<ThirdParty> {
  const dir = await mkdtemp(join(tmpdir(), 'hms-third-party-'))
  const homeManager = {} as Record<HmVersion, string>
  for (const [version, { prefix, release, isReleaseBranch }] of Object.entries(releases) as [
    HmVersion,
    typeof releases.master,
  ][]) {
    await untar(await archive(prefix), join(dir, version))
    homeManager[version] = join(dir, version, 'home-manager')
    await writeFile(join(homeManager[version], 'release.json'), JSON.stringify({ release, isReleaseBranch }))
  }
  await untar(await archive('nixpkgs-lib-'), join(dir, 'lib-archive'))
  const nixpkgs = join(dir, 'nixpkgs')
  await rename(join(dir, 'lib-archive', 'nixpkgs-lib'), nixpkgs)
  const filesystem = join(nixpkgs, 'lib', 'filesystem.nix')
  const text = await readFile(filesystem, 'utf8')
  if (!text.includes(readFileTypeLine)) throw new Error(`${filesystem}: the line to patch is gone`)
  await writeFile(filesystem, text.replace(readFileTypeLine, readFileTypeFallback))
  for (const entry of ['default.nix', 'nixos'])
    await symlink(join(root, 'nix', 'tests', 'nixpkgs', entry), join(nixpkgs, entry))
  if (!existsSync(join(nixpkgs, 'lib', 'default.nix'))) throw new Error('nixpkgs lib archive without lib/default.nix')
  return { dir, nixpkgs, homeManager }
}

/** The trees, unpacked once before the calling test file's tests and removed after them. */
export function useThirdParty(): () => ThirdParty {
  let tp: ThirdParty | undefined
  beforeAll(async () => {
    tp = await unpackThirdParty()
  })
  afterAll(async () => {
    if (tp) await rm(tp.dir, { recursive: true, force: true })
  })
  return () => tp!
}
