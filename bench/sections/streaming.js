// Streaming: a home-manager stand-in printing 1 000 000 lines on stdout and 500 000 on stderr,
// one write(2) a line, run alone with its output to files (the baseline), through hms, and
// through the design comparison harness (bench/fixtures/pipe-through.js).
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmtMs, median, stats, timeAsync } from '../lib/measure.js'
import { HMS_BIN, makeSandbox } from '../lib/sandbox.js'
import { scanStream } from '../lib/streams.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))
const MAXRSS = path.join(FIXTURES, 'maxrss.mjs')
const OUT_LINES = 1_000_000
const ERR_LINES = 500_000

/** Each producer as a `home-manager` in a directory of its own; the C one compiled now with cc. */
function producers(work, log) {
  const dir = path.join(work, 'producers')
  const made = []
  const add = (name, make) => {
    const bin = path.join(dir, name)
    mkdirSync(bin, { recursive: true })
    try {
      if (make(path.join(bin, 'home-manager')) !== false) made.push({ name, bin })
    } catch (error) {
      log(`  producer ${name}: not available (${error.message.split('\n')[0]})`)
    }
  }
  add('c', (target) => {
    const cc = spawnSync('cc', ['-O2', '-o', target, path.join(FIXTURES, 'lines.c')], { encoding: 'utf8' })
    if (cc.error || cc.status !== 0) throw new Error(cc.error?.message ?? cc.stderr)
  })
  const interpreted = { perl: ['perl', 'lines.pl'], python3: ['python3', 'lines.py'], node: ['node', 'lines.js'] }
  for (const [name, [interpreter, script]] of Object.entries(interpreted)) {
    add(name, (target) => {
      if (spawnSync(interpreter, ['--version'], { stdio: 'ignore' }).status !== 0)
        throw new Error(`${interpreter} not found`)
      symlinkSync(path.join(FIXTURES, script), target)
    })
  }
  return made
}

function shmDir(work) {
  try {
    return mkdtempSync(path.join('/dev/shm', `${path.basename(work)}-`))
  } catch {
    return undefined
  }
}

export async function streaming({ work, parserModule, rounds = 5, log }) {
  const rows = []
  const checks = []
  const dir = path.join(work, 'streaming')
  mkdirSync(dir, { recursive: true })
  // The captured output goes to files in tmpfs when there is one: disk write-back would add noise to both sides.
  const captureDir = shmDir(work) ?? dir
  const outFile = path.join(captureDir, 'stdout')
  const errFile = path.join(captureDir, 'stderr')
  const timesFile = path.join(dir, 'times')
  const rssFile = path.join(dir, 'rss')

  const run = async (file, args, env, cwd) => {
    for (const f of [timesFile, rssFile, outFile, errFile]) rmSync(f, { force: true })
    const out = openSync(outFile, 'w')
    const err = openSync(errFile, 'w')
    try {
      const result = await timeAsync(file, args, {
        stdio: ['ignore', out, err],
        env: { ...env, HMS_BENCH_TIMES: timesFile, HMS_BENCH_RSS: rssFile },
        cwd,
      })
      const producerMs = existsSync(timesFile) ? Number(readFileSync(timesFile, 'utf8')) / 1e6 : NaN
      const rssKiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN
      return { ...result, producerMs, rssKiB }
    } finally {
      closeSync(out)
      closeSync(err)
    }
  }

  // Which producer: the fastest one is the strictest test (a slow producer hides a slow consumer).
  const made = producers(work, log)
  const producerRuns = []
  for (const p of made) {
    const r = await run(
      path.join(p.bin, 'home-manager'),
      ['switch'],
      { PATH: process.env.PATH, HMS_BENCH_OUT: String(OUT_LINES), HMS_BENCH_ERR: String(ERR_LINES) },
      dir,
    )
    producerRuns.push({
      name: p.name,
      bin: p.bin,
      wallMs: r.ms,
      producerMs: r.producerMs,
      linesPerSec: Math.round((OUT_LINES + ERR_LINES) / (r.producerMs / 1000)),
    })
    log(`  producer ${p.name}: ${fmtMs(r.producerMs)} for ${OUT_LINES + ERR_LINES} lines alone`)
  }
  if (producerRuns.length === 0) throw new Error('no line producer could be built (cc, perl, python3, node)')
  const chosen =
    producerRuns.find((p) => p.name === 'c') ?? [...producerRuns].sort((a, b) => a.producerMs - b.producerMs)[0]
  log(`  producer used: ${chosen.name}`)

  const sandbox = makeSandbox(work, { binFirst: [chosen.bin] })
  sandbox.cacheDir('modular-workspace')
  const env = { ...sandbox.env, HMS_BENCH_OUT: String(OUT_LINES), HMS_BENCH_ERR: String(ERR_LINES) }
  const cachixCommand = ['cachix', 'watch-exec', 'modular-workspace', '--', 'home-manager', 'switch']
  const harness = path.join(FIXTURES, 'pipe-through.js')
  // The harness runs cachix watch-exec one way (`mode`, also the row's id), with the parser hms ships.
  const harnessRun = (mode, label) => ({
    id: mode,
    label,
    file: process.execPath,
    args: ['--import', MAXRSS, harness, mode, parserModule, '--', ...cachixCommand],
  })
  const variants = [
    {
      id: 'alone',
      label: 'home-manager stand-in alone, output to files',
      file: path.join(chosen.bin, 'home-manager'),
      args: ['switch'],
    },
    { id: 'hms', label: 'hms (fd-3 bypass, as shipped)', file: process.execPath, args: ['--import', MAXRSS, HMS_BIN] },
    harnessRun('bypass', 'harness: fd-3 bypass'),
    harnessRun('pipe-parser', 'harness: stderr piped through ReportParser'),
    harnessRun('pipe-scan', 'harness: stderr piped, Buffer scanning'),
    harnessRun('pipe-raw', 'harness: stderr piped, copied unparsed'),
  ]
  const results = Object.fromEntries(variants.map((v) => [v.id, []]))
  let expected
  try {
    for (let round = 0; round < rounds; round++) {
      // Each round starts one variant later, so no variant always runs first or right after the same one.
      const order = variants.map((_, i) => variants[(i + round) % variants.length])
      // The checksums are the alone run's: it goes first in the first round.
      for (const v of order) {
        const r = await run(v.file, v.args, env, sandbox.flakeDir)
        const out = scanStream(outFile, 'out')
        const err = scanStream(errFile, 'err')
        expected ??= v.id === 'alone' ? { out: out.sha256, err: err.sha256 } : undefined
        const problems = []
        if (r.code !== 0) problems.push(`exit ${r.code ?? r.signal}`)
        for (const [name, s, want, count] of [
          ['stdout', out, expected?.out, OUT_LINES],
          ['stderr', err, expected?.err, ERR_LINES],
        ]) {
          if (s.lines !== count) problems.push(`${name}: ${s.lines} producer lines, expected ${count}`)
          if (s.outOfOrder) problems.push(`${name}: ${s.outOfOrder} lines out of order (${s.firstProblem})`)
          if (s.wrongStream) problems.push(`${name}: ${s.wrongStream} lines of the other stream (${s.firstProblem})`)
          if (want && s.sha256 !== want)
            problems.push(`${name}: checksum ${s.sha256.slice(0, 12)} ≠ ${want.slice(0, 12)}`)
        }
        if (v.id === 'alone' && (out.foreign || err.foreign)) problems.push('the producer alone printed foreign lines')
        checks.push({
          check: `streaming ${v.id} round ${round + 1}: every line once, in order, on its stream (sha256)`,
          ok: problems.length === 0,
          detail:
            problems.join('; ') ||
            `stdout ${out.sha256.slice(0, 16)}…, stderr ${err.sha256.slice(0, 16)}… (+${err.foreign} lines of ` +
              'hms/cachix on stderr)',
        })
        results[v.id].push({
          wallMs: r.ms,
          producerMs: r.producerMs,
          rssKiB: r.rssKiB,
          foreignErr: err.foreign,
          foreignSample: err.foreignSample,
        })
        const rss = Number.isFinite(r.rssKiB) ? `, peak RSS ${(r.rssKiB / 1024).toFixed(1)} MiB` : ''
        const wrong = problems.length ? `  ✗ ${problems.join('; ')}` : ''
        log(
          `  ${v.id.padEnd(11)} round ${round + 1}: wall ${fmtMs(r.ms)}, producer ${fmtMs(r.producerMs)}${rss}${wrong}`,
        )
      }
    }
  } finally {
    sandbox.cleanup()
    if (captureDir !== dir) rmSync(captureDir, { recursive: true, force: true })
  }

  const lines = OUT_LINES + ERR_LINES
  const alone = results.alone
  const aloneProducer = median(alone.map((r) => r.producerMs))
  const aloneWall = median(alone.map((r) => r.wallMs))
  const design = {}
  for (const v of variants) {
    const rs = results[v.id]
    const producer = stats(rs.map((r) => r.producerMs))
    const wall = stats(rs.map((r) => r.wallMs))
    const rss = rs.every((r) => Number.isFinite(r.rssKiB)) ? stats(rs.map((r) => r.rssKiB / 1024)) : null
    design[v.id] = {
      label: v.label,
      producerMs: producer,
      wallMs: wall,
      linesPerSec: Math.round(lines / (producer.median / 1000)),
      throughputRatio: Number((aloneProducer / producer.median).toFixed(3)),
      throughputRatioOfMins: Number((Math.min(...alone.map((r) => r.producerMs)) / producer.min).toFixed(3)),
      wallRatio: Number((aloneWall / wall.median).toFixed(3)),
      peakRssMiB: rss,
    }
  }
  const hms = design.hms
  rows.push({
    section: 'streaming',
    figure: `throughput, ${lines.toLocaleString('en')} nix-style lines (1 write each)`,
    hms: { stats: hms.producerMs, unit: 'ms', note: `${(hms.linesPerSec / 1e6).toFixed(2)} M lines/s` },
    baseline: {
      label: `stand-in alone, output to files (${chosen.name} producer)`,
      stats: design.alone.producerMs,
      unit: 'ms',
      note: `${(design.alone.linesPerSec / 1e6).toFixed(2)} M lines/s`,
    },
    ratio: hms.throughputRatio,
    ratioText: `${hms.throughputRatio.toFixed(2)}× throughput (mins ${hms.throughputRatioOfMins.toFixed(2)}×)`,
    target: '≥ 0.95× (≥ 0.8× at least)',
    met: hms.throughputRatio >= 0.95 ? true : hms.throughputRatio >= 0.8 ? 'partly' : false,
  })
  rows.push({
    section: 'streaming',
    figure: 'same run, wall time of the whole command',
    hms: { stats: hms.wallMs, unit: 'ms' },
    baseline: { label: 'stand-in alone', stats: design.alone.wallMs, unit: 'ms' },
    ratio: hms.wallRatio,
    ratioText: `${hms.wallRatio.toFixed(2)}× (+${Math.round(hms.wallMs.median - design.alone.wallMs.median)} ms)`,
    target: 'information (includes start-up, cachix, settle)',
    met: null,
  })
  rows.push({
    section: 'streaming',
    figure: 'peak RSS of the hms process while streaming',
    hms: { stats: hms.peakRssMiB, unit: 'MiB' },
    baseline: { label: 'target', text: '100 MB' },
    ratio: null,
    ratioText: '',
    target: '≤ 100 MB',
    met: hms.peakRssMiB ? hms.peakRssMiB.median * 1.048576 <= 100 : null,
  })
  return {
    rows,
    checks,
    extra: {
      streaming: {
        captureDir: captureDir === dir ? 'disk' : 'tmpfs',
        producer: chosen.name,
        producers: producerRuns.map(({ bin, ...p }) => p),
        lines: { stdout: OUT_LINES, stderr: ERR_LINES },
        rounds,
        design,
      },
    },
  }
}
