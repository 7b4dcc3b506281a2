// Bundles modules of hms's own source (and test helpers) into one ESM file with esbuild (already
// installed for tsup), so the benchmarks and the pipe-through comparison harness run exactly the
// code hms runs. Nothing in src/ is changed.
import path from 'node:path'
import { REPO } from './sandbox.js'

/** Writes `outfile` exporting everything `modules` (paths from the repository root) export; returns its path. */
export async function bundleModules(outfile, modules) {
  const { build } = await import('esbuild')
  await build({
    stdin: {
      contents: modules.map((m) => `export * from ${JSON.stringify(path.join(REPO, m))}`).join('\n'),
      resolveDir: REPO,
      loader: 'ts',
      sourcefile: 'bench-entry.ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  })
  return outfile
}

/**
 * `<dir>/report.mjs`: hms's cachix report parser (ReportParser, tallyEvent, emptyTally, stderrBypass,
 * withBypass).
 */
export function bundleParser(dir) {
  return bundleModules(path.join(dir, 'report.mjs'), [
    'src/backends/cachix/report.ts',
    'src/backends/cachix/cachix.ts',
    'src/backends/backend.ts',
  ])
}
