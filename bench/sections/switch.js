// Overhead on a real switch: `hms --flake .#mitsio@shoshin` against the bare
// `cachix watch-exec modular-workspace -- home-manager switch --flake .#mitsio@shoshin`, with the
// stand-ins doing real Nix builds and real `nix copy` pushes to a file:// cache. Every run gets
// fresh work (a new package version, or a new salt), the two alternate (ABBA), and after every run
// the new generation's whole closure must be in the cache.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median, stats, timeAsync } from '../lib/measure.js'
import { HMS_BIN, makeSandbox } from '../lib/sandbox.js'

const FLAKE = '.#mitsio@shoshin'
const TRACE = fileURLToPath(new URL('../fixtures/trace-spawn.mjs', import.meta.url))

export async function switchOverhead({ work, pairs = { package: 8, generation: 6 }, log }) {
  const sandbox = makeSandbox(work)
  const cacheDir = sandbox.cacheDir('modular-workspace')
  const cachixLog = path.join(sandbox.root, 'cachix.log')
  const env = { ...sandbox.env, CACHIX_STANDIN_LOG: cachixLog }
  const checks = []
  const variants = {
    bare: {
      file: 'cachix',
      args: ['watch-exec', 'modular-workspace', '--', 'home-manager', 'switch', '--flake', FLAKE],
    },
    hms: { file: process.execPath, args: [HMS_BIN, '--flake', FLAKE] },
    // Untimed: one run with every spawn traced, for the timeline.
    traced: { file: process.execPath, args: ['--import', TRACE, HMS_BIN, '--flake', FLAKE] },
  }
  let counter = 0
  const baseSalt = `bench-${Date.now().toString(36)}-${process.pid}`
  const workloads = {
    package: () => sandbox.setPackage('ripgrep', `14.${100 + counter++}`),
    generation: () => sandbox.setFixture({ salt: `${baseSalt}-g${counter++}` }),
  }

  const once = async (id, workload) => {
    workloads[workload]()
    rmSync(cachixLog, { force: true })
    const before = sandbox.generation()?.number ?? 0
    const { file, args } = variants[id]
    const r = await timeAsync(file, args, { env, cwd: sandbox.flakeDir })
    const after = sandbox.generation()
    // When cachix (the child) started: the stand-in appends its arguments to the log first thing.
    const childStartMs = existsSync(cachixLog) ? statSync(cachixLog).mtimeMs - r.startedAt : NaN
    const missing = after
      ? sandbox.closure(after.path).filter((p) => !existsSync(path.join(cacheDir, `${p.slice(11, 43)}.narinfo`)))
      : ['(no generation)']
    const ok = r.code === 0 && (after?.number ?? 0) > before && missing.length === 0
    checks.push({
      check: `switch ${workload} ${id}: exit 0, a new generation, its whole closure in the cache`,
      ok,
      detail: ok
        ? `generation ${after.number}`
        : `exit ${r.code ?? r.signal}, generation ${before} → ${after?.number}, ${missing.length} paths missing`,
    })
    return { ms: r.ms, childStartMs }
  }

  const rows = []
  const extra = {}
  try {
    // Warm-up: the first build of the generation, and both commands once.
    await once('hms', 'package')
    await once('bare', 'package')
    for (const [workload, n] of Object.entries(pairs)) {
      const runs = { bare: [], hms: [] }
      for (let i = 0; i < n; i++) {
        for (const id of i % 2 ? ['hms', 'bare'] : ['bare', 'hms']) runs[id].push(await once(id, workload))
      }
      const bare = runs.bare.map((r) => r.ms)
      const hms = runs.hms.map((r) => r.ms)
      const added = median(hms) - median(bare)
      const ratio = median(hms) / median(bare)
      const beforeChild = median(runs.hms.map((r) => r.childStartMs)) - median(runs.bare.map((r) => r.childStartMs))
      const label = workload === 'package' ? 'switch, one package changed' : 'switch, whole generation rebuilt'
      const minRatio = Math.min(...hms) / Math.min(...bare)
      rows.push({
        section: 'switch',
        figure: label,
        hms: { stats: stats(hms), unit: 'ms' },
        baseline: { label: 'bare `cachix watch-exec … -- home-manager switch`', stats: stats(bare), unit: 'ms' },
        ratio: Number(ratio.toFixed(3)),
        ratioText: `${ratio.toFixed(2)}× (+${Math.round(added)} ms; mins ${minRatio.toFixed(2)}×)`,
        target: '≤ 1.03×',
        met: ratio <= 1.03,
      })
      if (workload === 'package') {
        const hmsStart = runs.hms.map((r) => r.childStartMs)
        const bareStart = runs.bare.map((r) => r.childStartMs)
        rows.push({
          section: 'switch',
          figure: '  time from start until cachix runs (same runs)',
          hms: { stats: stats(hmsStart), unit: 'ms' },
          baseline: { label: "bare (the stand-in's own bash start)", stats: stats(bareStart), unit: 'ms' },
          ratio: null,
          ratioText: `+${Math.round(beforeChild)} ms before the child starts`,
          target: 'information',
          met: null,
        })
      }
      extra[workload] = {
        pairs: n,
        addedMs: Math.round(added),
        beforeChildMs: Math.round(beforeChild),
        afterChildMs: Math.round(added - beforeChild),
        childStartMs: {
          bare: stats(runs.bare.map((r) => r.childStartMs)),
          hms: stats(runs.hms.map((r) => r.childStartMs)),
        },
      }
      log(
        `  ${label}: hms ${median(hms).toFixed(0)} ms vs bare ${median(bare).toFixed(0)} ms → ${ratio.toFixed(2)}× ` +
          `(+${Math.round(added)} ms, ~${Math.round(beforeChild)} ms before cachix starts)`,
      )
    }
    const traceFile = path.join(sandbox.root, 'trace')
    env.HMS_BENCH_TRACE = traceFile
    await once('traced', 'package')
    extra.timeline = readFileSync(traceFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([ms, what]) => ({ what, ms: Math.round(Number(ms)) }))
    log(`  traced hms run (ms since start): ${extra.timeline.map((e) => `${e.what} ${e.ms}`).join(' · ')}`)
  } finally {
    sandbox.cleanup()
  }
  return { rows, checks, extra: { switch: extra } }
}
