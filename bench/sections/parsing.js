// Parsing: 100 000 cachix report lines through hms's ReportParser (bench/fixtures/parse.js), each
// measurement in a process of its own, next to the baseline of only splitting the same chunks into
// lines. Also the same report with no failed uploads, which shows what the `✗` lookups cost.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { median, stats } from '../lib/measure.js'

const WORKER = fileURLToPath(new URL('../fixtures/parse.js', import.meta.url))

function measure(parserModule, mode, env = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', WORKER, parserModule, mode], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 16 << 20,
  })
  if (r.status !== 0) throw new Error(`parse.js ${mode}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`)
  return JSON.parse(r.stdout)
}

export async function parsing({ parserModule, runs = 3, budgetMs = 12_000, log }) {
  const modes = ['split-line', 'parse-line', 'split-64k', 'parse-64k']
  const results = Object.fromEntries(modes.map((m) => [m, []]))
  // Up to `runs` runs of each mode, fewer when a mode's runs already took `budgetMs` (a slow parser must not blow the
  // bench's time).
  const spent = Object.fromEntries(modes.map((m) => [m, 0]))
  for (let i = 0; i < runs; i++) {
    for (const m of modes) {
      if (i > 0 && spent[m] >= budgetMs) continue
      const r = measure(parserModule, m)
      spent[m] += r.ms
      results[m].push(r)
    }
  }
  const noFail = [measure(parserModule, 'parse-64k', { HMS_BENCH_PARSE_FAIL: '0' })]
  const checks = []
  for (const m of ['parse-line', 'parse-64k']) {
    for (const r of results[m]) {
      const ok = r.ok.announced && r.ok.failed && r.ok.text
      checks.push({
        check: `parsing ${m}: every pushed and failed path found, unknown text passed through byte for byte`,
        ok,
        detail:
          `${r.announced}/${r.expected.announced} pushed, ${r.failed}/${r.expected.failed} failed, ` +
          `text ${r.ok.text ? 'identical' : 'DIFFERENT'}`,
      })
    }
  }
  const sample = results['parse-line'][0]
  const describe =
    `${sample.lines.toLocaleString('en')} lines, ${(sample.bytes / 1048576).toFixed(1)} MiB: ` +
    `${sample.expected.announced.toLocaleString('en')} paths, ${sample.expected.failed.toLocaleString('en')} glued ✗`
  log(`  report: ${describe}`)
  const rows = []
  for (const [parse, split, chunking] of [
    ['parse-line', 'split-line', 'one chunk per write'],
    ['parse-64k', 'split-64k', '64 KiB chunks'],
  ]) {
    const ms = results[parse].map((r) => r.ms)
    const base = results[split].map((r) => r.ms)
    const grew = (r) => Math.max(0, r.peakRssKiB - r.rssBeforeKiB) / 1024
    const added = results[parse].map(grew)
    rows.push({
      section: 'parsing',
      figure: `100 000 cachix report lines, ${chunking}`,
      hms: {
        stats: stats(ms),
        unit: 'ms',
        note:
          `${Math.round(sample.lines / (median(ms) / 1000)).toLocaleString('en')} ` +
          `lines/s${ms.length < runs ? `; ${ms.length} run${ms.length === 1 ? '' : 's'}` : ''}`,
      },
      baseline: { label: 'splitting the same chunks into lines only', stats: stats(base), unit: 'ms' },
      ratio: Number((median(ms) / median(base)).toFixed(1)),
      ratioText: `${(median(ms) / median(base)).toFixed(0)}× the split`,
      target: 'bench goal ≤ 1 s (issue sets none)',
      met: median(ms) <= 1000,
    })
    rows.push({
      section: 'parsing',
      figure: `  memory: peak RSS growth while parsing, ${chunking}`,
      hms: {
        stats: stats(added),
        unit: 'MiB',
        note:
          `process peak ${median(results[parse].map((r) => r.peakRssKiB / 1024)).toFixed(0)} MiB, ` +
          'with the generated report',
      },
      baseline: { label: 'splitting only', stats: stats(results[split].map(grew)), unit: 'MiB' },
      ratio: null,
      ratioText: '',
      target: 'bench goal ≤ 100 MB',
      met: median(added) * 1.048576 <= 100,
    })
    log(
      `  ${parse}: median ${median(ms).toFixed(0)} ms (split only ${median(base).toFixed(0)} ms), ` +
        `RSS +${median(added).toFixed(1)} MiB while parsing`,
    )
  }
  log(
    `  parse-64k with no failed uploads: ${noFail[0].ms.toFixed(0)} ms (${noFail[0].lines} lines, ` +
      `${noFail[0].expected.announced} paths)`,
  )
  rows.push({
    section: 'parsing',
    figure: '  same size, no failed uploads, 64 KiB chunks',
    hms: { stats: stats(noFail.map((r) => r.ms)), unit: 'ms' },
    baseline: { label: 'with 2 % failed (above)', stats: stats(results['parse-64k'].map((r) => r.ms)), unit: 'ms' },
    ratio: null,
    ratioText: `the ✗ lookups cost ${Math.round(median(results['parse-64k'].map((r) => r.ms)) - noFail[0].ms)} ms`,
    target: 'information',
    met: null,
  })
  return { rows, checks, extra: { parsing: { report: describe, results, noFail } } }
}
