// Bundles hms's own cachix report parser (src/backends/cachix/report.ts, src/backends/cachix/cachix.ts) into one ESM
// file with
// esbuild (already installed for tsup), so the parsing benchmark and the pipe-through comparison
// harness run exactly the code hms runs. Nothing in src/ is changed.
import path from 'node:path'
import { REPO } from './sandbox.js'

/**
 * Writes `<dir>/report.mjs` exporting ReportParser, tallyEvent, emptyTally, stderrBypass and withBypass; returns its
 * path.
 */
export async function bundleParser(dir) {
  const { build } = await import('esbuild')
  const outfile = path.join(dir, 'report.mjs')
  await build({
    stdin: {
      contents: [
        `export { ReportParser } from ${JSON.stringify(path.join(REPO, 'src/backends/cachix/report.ts'))}`,
        'export { tallyEvent, stderrBypass, ' +
          `withBypass } from ${JSON.stringify(path.join(REPO, 'src/backends/cachix/cachix.ts'))}`,
        `export { emptyTally } from ${JSON.stringify(path.join(REPO, 'src/backends/backend.ts'))}`,
      ].join('\n'),
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
