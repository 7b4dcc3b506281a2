// Start-up: `hms --version` and `hms --plan` (without and with a config file) against `node -e 0`,
// interleaved round by round; plus what each dependency costs to import, to explain the figures.
// With `--baseline=REV`, the same commands of that revision's build too: "no slower than before".
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { median, stats, timeSync } from '../lib/measure.js'
import { HMS_BIN, makeSandbox, REPO } from '../lib/sandbox.js'

/** REV's tree (git archive, no worktree to clean up), built with its own tsup config and today's node_modules. */
function buildRevision(rev, work, log) {
  const dir = path.join(work, `baseline-${rev.replace(/[^\w.-]/g, '_')}`)
  mkdirSync(dir)
  const tree = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', rev], { maxBuffer: 1 << 30 })
  execFileSync('tar', ['-x', '-C', dir], { input: tree })
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'))
  execFileSync(process.execPath, [path.join(REPO, 'node_modules/tsup/dist/cli-default.js')], {
    cwd: dir,
    stdio: 'ignore',
  })
  const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', rev], { encoding: 'utf8' }).trim()
  log(`  baseline: ${rev} (${commit}) built in ${dir}`)
  return { bin: path.join(dir, 'bin/hms.js'), label: rev === commit ? commit : `${rev} (${commit})` }
}

const CONFIG = {
  cache: 'modular-workspace',
  user: 'mitsio',
  profiles: {
    shoshin: { hosts: ['shoshin'], cache: 'modular-workspace-skylake' },
    gyakusatsu: { hosts: ['gyakusatsu'] },
    kinoite: { hosts: ['kinoite', 'kinoite.lan'] },
  },
  caches: { nas: { url: 'file:///mnt/nas/nix-cache' } },
  push: { jobs: 8, compressionMethod: 'zstd', retries: 2 },
}

function interleave(variants, rounds, warmup) {
  const times = Object.fromEntries(variants.map((v) => [v.id, []]))
  for (let round = -warmup; round < rounds; round++) {
    for (const v of variants) {
      const ms = timeSync(v.file, v.args, v.options)
      if (round >= 0) times[v.id].push(ms)
    }
  }
  return times
}

export async function startup({ work, rounds = 20, importRounds = 10, log, baseline }) {
  const sandbox = makeSandbox(work)
  const configFile = path.join(sandbox.root, 'config.json')
  writeFileSync(configFile, `${JSON.stringify(CONFIG, null, 2)}\n`)
  // The floor of any ESM command line tool: Node loading one empty ES module file.
  const emptyModule = path.join(sandbox.root, 'empty.mjs')
  writeFileSync(emptyModule, '')
  const options = { env: sandbox.env, cwd: sandbox.flakeDir }
  const node = process.execPath
  const variants = [
    { id: 'node', label: '`node -e 0`', file: node, args: ['-e', '0'], options },
    { id: 'esm', label: 'an empty ES module file', file: node, args: [emptyModule], options },
    { id: 'version', label: '`hms --version`', file: node, args: [HMS_BIN, '--version'], options },
    {
      id: 'plan',
      label: '`hms --plan` (no config file)',
      file: node,
      args: [HMS_BIN, '--plan', '--flake', '.#mitsio@shoshin'],
      options,
    },
    {
      id: 'plan-config',
      label: '`hms --plan` (with a config file)',
      file: node,
      args: [HMS_BIN, '--plan', '--flake', '.#mitsio@shoshin'],
      options: { ...options, env: { ...sandbox.env, HMS_CONFIG: configFile } },
    },
  ]
  const before = baseline ? buildRevision(baseline, work, log) : undefined
  if (before) {
    for (const v of variants.slice(2))
      variants.push({ ...v, id: `before-${v.id}`, args: [before.bin, ...v.args.slice(1)] })
  }
  let times
  try {
    times = interleave(variants, rounds, 3)
  } finally {
    sandbox.cleanup()
  }
  const base = median(times.node)
  const rows = []
  for (const v of variants.slice(2).filter((v) => !v.id.startsWith('before-'))) {
    const ratio = median(times[v.id]) / base
    const minRatio = Math.min(...times[v.id]) / Math.min(...times.node)
    rows.push({
      section: 'start-up',
      figure: v.label,
      hms: { stats: stats(times[v.id]), unit: 'ms' },
      baseline: { label: '`node -e 0`', stats: stats(times.node), unit: 'ms' },
      ratio: Number(ratio.toFixed(3)),
      ratioText: `${ratio.toFixed(2)}× (+${Math.round(median(times[v.id]) - base)} ms; mins ${minRatio.toFixed(2)}×)`,
      target: '≤ 1.5×',
      met: ratio <= 1.5,
    })
    log(`  ${v.label}: median ${median(times[v.id]).toFixed(1)} ms vs ${base.toFixed(1)} ms → ${ratio.toFixed(2)}×`)
  }

  if (before) rows.push(...againstBaseline(variants, times, before.label, log))

  // What each dependency costs to import on its own (ESM, resolved from the repository).
  const deps = ['chalk', 'commander', 'execa', 'ora', 'zod']
  const importVariants = [
    { id: 'none', file: node, args: ['--input-type=module', '-e', ''], options: { cwd: REPO } },
    ...deps.map((d) => ({
      id: d,
      file: node,
      args: ['--input-type=module', '-e', `await import(${JSON.stringify(d)})`],
      options: { cwd: REPO },
    })),
  ]
  const imports = interleave(importVariants, importRounds, 1)
  const none = median(imports.none)
  const importCost = Object.fromEntries(
    deps.map((d) => [
      d,
      { medianMs: Number(median(imports[d]).toFixed(1)), addedMs: Number((median(imports[d]) - none).toFixed(1)) },
    ]),
  )
  log(
    `  import cost (ms added to an empty ESM script): ${deps.map((d) => `${d} +${importCost[d].addedMs}`).join(', ')}`,
  )
  const esm = median(times.esm)
  log(`  an empty ES module file: median ${esm.toFixed(1)} ms (${(esm / base).toFixed(2)}× node -e 0)`)
  return {
    rows,
    checks: [],
    extra: {
      startup: {
        rounds,
        nodeMs: stats(times.node),
        emptyModuleMs: stats(times.esm),
        importCost,
        emptyEsmMs: Number(none.toFixed(1)),
      },
    },
  }
}

/** Each command against the same command of the baseline build, round by round (the median of the per-round ratios). */
function againstBaseline(variants, times, label, log) {
  return variants
    .filter((v) => v.id.startsWith('before-'))
    .map((before) => {
      const id = before.id.slice('before-'.length)
      const now = times[id]
      const then = times[before.id]
      const ratio = median(now.map((ms, i) => ms / then[i]))
      const added = (median(now) - median(then)).toFixed(1)
      log(`  ${before.label} against ${label}: ${ratio.toFixed(3)}× (${added} ms)`)
      return {
        section: 'start-up',
        figure: `${before.label} against the same at ${label}`,
        hms: { stats: stats(now), unit: 'ms' },
        baseline: { label: `${label}'s build`, stats: stats(then), unit: 'ms' },
        ratio: Number(ratio.toFixed(3)),
        ratioText: `${ratio.toFixed(2)}× (median of ${now.length} rounds' ratios; ${added} ms)`,
        target: '≤ 1.0× (no slower)',
        met: ratio <= 1,
      }
    })
}
