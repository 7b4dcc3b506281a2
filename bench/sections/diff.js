// The package diff: two home-manager generations of ~2,000 store paths, the second with 50 package
// changes (30 versions changed, 10 packages added, 10 removed), compared by `hms diff A B` and by
// `nix store diff-closures A B`, interleaved round by round. Also timed: the part a switch pays
// (hms's own diff code, src/diff/closures.ts + compute.ts, bundled and run in this process), as a
// switch runs it inside an hms that is already started.
//
// The generations are made cheaply and for real: `builtins.toFile` paths written by
// `nix-instantiate --eval --read-write-mode` (no builds), deterministic, so later runs reuse them.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { median, stats, timeSync } from '../lib/measure.js'
import { bundleModules } from '../lib/bundle.js'
import { HMS_BIN, makeSandbox } from '../lib/sandbox.js'

const N = 2000
const SALT = 'hms-bench-diff-v1'
const NIX = ['--extra-experimental-features', 'nix-command']

/** A generation whose closure is N packages `pkg<i>-1.<i>`, some changed; returns its store path. */
function generation(env, { bumped = 0, added = 0, removed = 0 } = {}) {
  const expr = `let
    pkg = i: v: builtins.toFile "pkg\${toString i}-\${v}" "${SALT} \${toString i} \${v}";
    version = i: if i >= ${removed} && i < ${removed + bumped} then "2.\${toString i}" else "1.\${toString i}";
    kept = builtins.genList (i: pkg (i + ${removed}) (version (i + ${removed}))) (${N} - ${removed});
    new = i: builtins.toFile "new\${toString i}-0.\${toString i}" "${SALT} new \${toString i}";
    extra = builtins.genList new ${added};
  in builtins.toFile "home-manager-generation" (toString (kept ++ extra))`
  const r = spawnSync('nix-instantiate', ['--eval', '--read-write-mode', '--expr', expr], { env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`nix-instantiate: ${r.stderr.trim().split('\n').pop()}`)
  return r.stdout.trim().replace(/"/g, '')
}

export async function diff({ work, rounds = 10, log }) {
  const sandbox = makeSandbox(work)
  try {
    const before = generation(sandbox.env)
    const after = generation(sandbox.env, { bumped: 30, added: 10, removed: 10 })
    const options = { env: sandbox.env, cwd: sandbox.root }
    const text = (file, argv) => spawnSync(file, argv, { ...options, encoding: 'utf8' }).stdout
    const size = (root) => text('nix-store', ['-qR', root]).trim().split('\n').length
    const paths = size(before)
    log(`  generations of ${paths} and ${size(after)} paths`)
    const { queryClosures, computeDiff } = await import(
      await bundleModules(path.join(work, 'diff.mjs'), ['src/diff/closures.ts', 'src/diff/compute.ts'])
    )
    const inProcess = async () => {
      const start = performance.now()
      const [a, b] = await queryClosures([before, after], sandbox.env)
      computeDiff(a, b)
      return performance.now() - start
    }
    const nix = []
    const hms = []
    const own = []
    for (let i = -1; i < rounds; i++) {
      const a = timeSync('nix', [...NIX, 'store', 'diff-closures', before, after], options)
      const b = timeSync(process.execPath, [HMS_BIN, 'diff', before, after], options)
      const c = await inProcess()
      if (i < 0) continue
      nix.push(a)
      hms.push(b)
      own.push(c)
    }

    // Correctness: the 50 changes, and the same names and versions as diff-closures.
    const json = text(process.execPath, [HMS_BIN, 'diff', before, after, '--json'])
    const { added, removed, changed } = JSON.parse(json).diff
    const dc = text('nix', [...NIX, 'store', 'diff-closures', before, after])
    const theirs = dc
      .split('\n')
      .filter((l) => l.includes(' → '))
      .map((l) => l.slice(0, l.indexOf(': ')))
      .sort()
    const ours = [...added, ...removed, ...changed].map((p) => p.name).sort()
    const checks = [
      {
        check: 'diff: 30 changed, 10 added, 10 removed',
        ok: changed.length === 30 && added.length === 10 && removed.length === 10,
        detail: `${changed.length} changed, ${added.length} added, ${removed.length} removed`,
      },
      {
        check: 'diff: the same names as nix store diff-closures',
        ok: ours.join() === theirs.join(),
        detail: `hms ${ours.length}, diff-closures ${theirs.length}`,
      },
    ]
    const [n, h, o] = [median(nix), median(hms), median(own)]
    const ms = (v) => `${v.toFixed(0)} ms`
    log(`  nix store diff-closures ${ms(n)} · hms diff ${ms(h)} · hms's diff inside a switch ${ms(o)} (medians)`)
    const baseline = { label: '`nix store diff-closures`', stats: stats(nix), unit: 'ms' }
    const row = (figure, values, m) => ({
      section: 'diff',
      figure,
      hms: { stats: stats(values), unit: 'ms' },
      baseline,
      ratio: Number((m / n).toFixed(3)),
      ratioText: `${(m / n).toFixed(2)}×`,
      target: '≤ 1×',
      met: m <= n,
    })
    return {
      rows: [
        row(`\`hms diff A B\` (whole command), ${paths.toLocaleString('en')}-path generations, 50 changes`, hms, h),
        row('the same diff inside a switch (hms already started)', own, o),
      ],
      checks,
      extra: { diff: { paths, rounds } },
    }
  } finally {
    sandbox.cleanup()
  }
}
