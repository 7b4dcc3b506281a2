#!/usr/bin/env node
// `npm run bench`: every figure of issue 6 on this machine, each next to its baseline measured in
// the same run, written to bench/results.json and bench/results.md. Targets are goals: missing one
// never fails the run; a failed correctness check (a streaming checksum, a path not pushed, a
// wrong parse) does, with exit 1. See bench/README.md for what each figure means.
//
//   node bench/run.js                      everything (after `npm run build`)
//   node bench/run.js streaming parsing    only some sections (results are then not written
//                                          unless --write is given)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleParser } from './lib/bundle.js'
import { fmtMs } from './lib/measure.js'
import { REPO, removeTree } from './lib/sandbox.js'
import { parsing } from './sections/parsing.js'
import { diff } from './sections/diff.js'
import { precision } from './sections/precision.js'
import { push } from './sections/push.js'
import { startup } from './sections/startup.js'
import { streaming } from './sections/streaming.js'
import { switchOverhead } from './sections/switch.js'
import { verify } from './sections/verify.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const sections = { startup, switch: switchOverhead, streaming, parsing, precision, verify, diff, push }
const args = process.argv.slice(2)
const chosen = args.filter((a) => !a.startsWith('--'))
for (const name of chosen) {
  if (!(name in sections)) {
    console.error(`bench: unknown section ${name} (known: ${Object.keys(sections).join(', ')})`)
    process.exit(2)
  }
}
const all = chosen.length === 0
// `--baseline=REV`: the start-up section also times that revision's build, for "no slower than before" targets.
const baseline = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length)
const write = all || args.includes('--write')
const log = (line) => process.stderr.write(`${line}\n`)

function sh(file, argv) {
  try {
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

function machine() {
  const cpus = os.cpus()
  const srcDirty = sh('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'])
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nix: sh('nix-build', ['--version'])?.replace(/^nix-build \(Nix\) /, 'Nix ') ?? 'not found',
    cc: sh('cc', ['--version'])?.split('\n')[0] ?? 'not found',
    commit: sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']) ?? 'unknown',
    srcUncommitted: srcDirty ? srcDirty.split('\n').length : 0,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  }
}

const started = Date.now()
const info = machine()
log(
  `hms bench on ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, ${info.os}, node ${info.node}, ` +
    `${info.nix} (load ${info.loadAverageAtStart.join(' ')})`,
)
if (spawnSync(process.execPath, [path.join(REPO, 'bin/hms.js'), '--version']).status !== 0) {
  log('bench: bin/hms.js does not run; build first (npm run bench builds)')
  process.exit(1)
}
const work = mkdtempSync(path.join(os.tmpdir(), 'hms-bench-'))
const rows = []
const checks = []
const extra = {}
const timings = {}
try {
  const parserModule = await bundleParser(work)
  const ctx = { work, parserModule, log, baseline }
  for (const [name, run] of Object.entries(sections)) {
    if (!all && !chosen.includes(name)) continue
    log(`\n▶ ${name}`)
    const t = Date.now()
    try {
      const result = await run(ctx)
      rows.push(...result.rows)
      checks.push(...result.checks)
      Object.assign(extra, result.extra)
    } catch (error) {
      checks.push({ check: `${name}: the section ran`, ok: false, detail: error.stack ?? String(error) })
      log(`  ✗ ${name} failed: ${error.stack ?? error}`)
    }
    timings[name] = Math.round((Date.now() - t) / 1000)
    log(`  (${timings[name]} s)`)
  }
} finally {
  removeTree(work)
}
info.loadAverageAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)))
const failed = checks.filter((c) => !c.ok)
const results = {
  date: new Date(started).toISOString(),
  durationSec: Math.round((Date.now() - started) / 1000),
  sectionSec: timings,
  machine: info,
  rows,
  checks: { total: checks.length, failed: failed.length, list: checks },
  ...extra,
}

if (write) {
  writeFileSync(path.join(HERE, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
  const md = markdown(results)
  writeFileSync(path.join(HERE, 'results.md'), md)
  // bench/README.md shows the latest results between two markers.
  const readme = path.join(HERE, 'README.md')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  if (existsSync(readme)) {
    const text = readFileSync(readme, 'utf8')
    const a = text.indexOf(start)
    const b = text.indexOf(end)
    if (a >= 0 && b > a)
      writeFileSync(
        readme,
        `${text.slice(0, a + start.length)}\n${markdown(results, true)
          .replace(/^# .*\n\n/, '')
          .replace(/^## /gm, '### ')}\n${text.slice(b)}`,
      )
  }
  log(`\nwrote bench/results.json, bench/results.md and the results in bench/README.md`)
}
process.stdout.write(`\n${table(rows)}\n`)
log(`\n${checks.length - failed.length}/${checks.length} correctness checks passed in ${results.durationSec} s`)
for (const c of failed) log(`  ✗ ${c.check}: ${c.detail}`)
process.exitCode = failed.length ? 1 : 0

// ---------------------------------------------------------------- Markdown

function cell(side) {
  if (!side) return ''
  if (side.text !== undefined) return side.text
  if (!side.stats) return 'n/a'
  const { min, median } = side.stats
  const value = side.unit === 'ms' ? `${fmtMs(min)} / ${fmtMs(median)}` : `${min} / ${median} ${side.unit}`
  return side.note ? `${value} (${side.note})` : value
}

function met(value) {
  if (value === true) return '✅'
  if (value === false) return '❌'
  if (value === 'partly') return '⚠️ ≥ 0.8× only'
  return '—'
}

function table(list) {
  const lines = [
    '| area | figure | hms (min / median) | baseline (min / median) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of list) {
    const baseline = r.baseline?.stats
      ? `${r.baseline.label}: ${cell(r.baseline)}`
      : `${r.baseline?.label ?? ''}${r.baseline?.text && r.baseline.label !== 'target' ? `: ${r.baseline.text}` : ''}`
    lines.push(
      `| ${r.section} | ${r.figure.trim()}${r.note ? ` (${r.note})` : ''} | ${cell(r.hms)} | ${baseline} | ` +
        `${r.ratioText ?? ''} | ${r.target} | ${met(r.met)} |`,
    )
  }
  return lines.join('\n')
}

function markdown(res, inReadme = false) {
  const m = res.machine
  const out = []
  out.push('# hms benchmark results', '')
  out.push(
    `Generated by \`npm run bench\` (bench/run.js) on ${res.date.slice(0, 16).replace('T', ' ')} UTC in ` +
      `${res.durationSec} ` +
      `s.${inReadme ? '' : ' What each figure means and how it is measured: [README.md](README.md).'}`,
    '',
  )
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node.slice(1)}, ${m.nix}; ` +
      `load average ${m.loadAverageAtStart.join(' ')} at the start, ${m.loadAverageAtEnd.join(' ')} at the end. ` +
      `hms at ${m.commit}${m.srcUncommitted ? ` plus ${m.srcUncommitted} uncommitted files in src/` : ''}. ` +
      'cachix and home-manager are the stand-ins of test/fixtures/bin doing real Nix work.',
    '',
  )
  out.push(table(res.rows), '')
  out.push(
    `Correctness checks: ${res.checks.total - res.checks.failed}/${res.checks.total} passed${
      res.checks.failed
        ? ` — FAILED: ${res.checks.list
            .filter((c) => !c.ok)
            .map((c) => c.check)
            .join('; ')}`
        : ''
    }.`,
    '',
  )
  if (res.streaming) {
    const s = res.streaming
    out.push('## Streaming designs', '')
    out.push(
      `${(s.lines.stdout + s.lines.stderr).toLocaleString('en')} lines (${s.lines.stdout.toLocaleString('en')} ` +
        `stdout, ${s.lines.stderr.toLocaleString('en')} stderr, one write(2) each) from the ${s.producer} producer, ` +
        `output captured in files on ${s.captureDir}; ${s.rounds} rounds, min / median. ` +
        '"Producer time" is the time from its first write to its last, as the producer itself measures it; ' +
        '"throughput" is alone ÷ that.',
      '',
    )
    out.push(
      '| design | producer time | throughput vs alone (medians; mins) | wall time | wall vs alone | peak RSS of the ' +
        'Node process |',
      '| --- | --- | --- | --- | --- | --- |',
    )
    for (const d of Object.values(s.design)) {
      out.push(
        `| ${d.label} | ${fmtMs(d.producerMs.min)} / ${fmtMs(d.producerMs.median)} | ` +
          `${d.throughputRatio.toFixed(2)}×; ${d.throughputRatioOfMins.toFixed(2)}× | ${fmtMs(d.wallMs.min)} / ` +
          `${fmtMs(d.wallMs.median)} | ${d.wallRatio.toFixed(2)}× | ` +
          `${d.peakRssMiB ? `${d.peakRssMiB.min} / ${d.peakRssMiB.median} MiB` : '—'} |`,
      )
    }
    const producer = (p) => `${p.name} ${fmtMs(p.producerMs)} (${(p.linesPerSec / 1e6).toFixed(2)} M lines/s)`
    out.push(
      '',
      `Producers alone (one run each; the fastest makes the strictest test): ${s.producers.map(producer).join(', ')}.`,
      '',
    )
  }
  if (res.startup || res.switch || res.push?.timelines) {
    out.push('## Where the time goes', '')
    if (res.switch) {
      for (const [w, x] of Object.entries(res.switch)) {
        if (w === 'timeline') continue
        out.push(
          `- switch (${w === 'package' ? 'one package changed' : 'whole generation rebuilt'}, ${x.pairs} pairs): ` +
            `hms adds ${x.addedMs} ms (medians); cachix starts ~${x.beforeChildMs} ms later than when run bare.`,
        )
      }
      if (res.switch.timeline)
        out.push(
          '- one traced hms switch, ms since the process started: ' +
            `${res.switch.timeline.map((e) => `${e.what} ${e.ms}`).join(' · ')}`,
        )
    }
    for (const [kind, events] of Object.entries(res.push?.timelines ?? {})) {
      out.push(
        `- one traced \`hms push\` of ${res.push.paths} paths to ${kind}://, ms since the process started: ` +
          `${events.map((e) => `${e.what} ${e.ms}`).join(' · ')}`,
      )
    }
    if (res.startup) {
      out.push(
        `- start-up floor: \`node -e 0\` ${res.startup.nodeMs.median} ms, ` +
          `an empty ES module file ${res.startup.emptyModuleMs.median} ms (medians).`,
      )
      const costs = Object.entries(res.startup.importCost)
        .map(([d, c]) => `${d} +${c.addedMs}`)
        .join(', ')
      const empty = `${res.startup.emptyEsmMs} ms`
      out.push(`- import cost of each dependency on its own (ms added to an empty ESM script, ${empty}): ${costs}`)
    }
    out.push('')
  }
  if (res.parsing) out.push(`Parsing report: ${res.parsing.report}.`, '')
  if (res.verify && !res.verify.available) out.push(`verify: not available — ${res.verify.reason}.`, '')
  return `${out.join('\n')}`
}
