// Runs nix/tests/hm-eval.nix: nix/module.nix inside the real home-manager, and builds the few files a
// test reads (units, scripts, shell rc files) from their tiny /bin/sh derivations.
import { execa } from 'execa'
import { join } from 'node:path'
import { root, type HmVersion, type ThirdParty } from './hm-trees.js'

export interface Built {
  path: string
  drvs: string[]
}

export interface HmSummary {
  configJson: string | null
  files: Record<'pathUnit' | 'serviceUnit' | 'bashrc' | 'zshrc' | 'fishConfig' | 'alias', Built | null>
  wantedBy: string[]
  activation: Record<string, { after: string[]; before: string[]; data: string }>
  activationOrder: string[]
  aliases: Record<'bash' | 'zsh' | 'fish', string | null>
  packages: string[]
  warnings: string[]
  maintainers: { file: string; names: string[] }[]
  options: { name: string; type: string; description: string }[]
}

export interface EvalOptions {
  system?: string
  /** Where the hms package "is": a test can put a bin/hms there. */
  hmsPath?: string
}

export const nixEnv = { ...process.env, NIX_CONFIG: 'substituters =\nsandbox = false\n' }

function args(tp: ThirdParty, version: HmVersion, definitions: string, opts: EvalOptions): string[] {
  return [
    '--eval',
    '--strict',
    '--json',
    '--read-write-mode',
    join(root, 'nix/tests/hm-eval.nix'),
    '--arg',
    'homeManager',
    tp.homeManager[version],
    '--arg',
    'nixpkgs',
    tp.nixpkgs,
    '--argstr',
    'definitions',
    definitions,
    ...(opts.system ? ['--argstr', 'system', opts.system] : []),
    ...(opts.hmsPath ? ['--argstr', 'hmsPath', opts.hmsPath] : []),
  ]
}

/** `definitions`: a home-manager module's config as JSON (raw text, so integers past 2^53 survive). */
export async function evalHm(
  tp: ThirdParty,
  version: HmVersion,
  definitions: unknown,
  opts: EvalOptions = {},
): Promise<HmSummary> {
  const text = typeof definitions === 'string' ? definitions : JSON.stringify(definitions)
  const result = await execa('nix-instantiate', args(tp, version, text, opts), { reject: false, env: nixEnv })
  if (result.exitCode !== 0) throw new Error(`home-manager evaluation failed:\n${result.stderr}`)
  return JSON.parse(result.stdout) as HmSummary
}

/** The evaluation's error output; fails the test when the evaluation succeeds. */
export async function evalHmError(
  tp: ThirdParty,
  version: HmVersion,
  definitions: unknown,
  opts: EvalOptions = {},
): Promise<string> {
  const text = typeof definitions === 'string' ? definitions : JSON.stringify(definitions)
  const result = await execa('nix-instantiate', args(tp, version, text, opts), { reject: false, env: nixEnv })
  if (result.exitCode === 0) throw new Error(`expected the evaluation to fail, it gave: ${result.stdout.slice(0, 500)}`)
  return result.stderr
}

/** Builds the derivations behind the given files (all at once) so their paths can be read. */
export async function build(files: (Built | null)[]): Promise<void> {
  const drvs = files.flatMap((f) => f?.drvs ?? [])
  if (drvs.length === 0) return
  await execa('nix-store', ['--realise', ...drvs], { env: nixEnv })
}
