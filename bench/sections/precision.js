// Precision (the seed's comparison): after a one-package change in the fixture home, what
// `hms switch` pushes (exactly what the switch built) against a whole-generation push of the same
// generation to an empty cache (`hms --mode generation`, what a plain `cachix push` of the
// generation would send).
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fmtBytes } from '../lib/measure.js'
import { HMS_BIN, makeSandbox } from '../lib/sandbox.js'

const FLAKE = '.#mitsio@shoshin'

export async function precision({ work, log }) {
  const sandbox = makeSandbox(work)
  const cache = sandbox.cacheDir('modular-workspace')
  const fresh = sandbox.cacheDir('fresh')
  const hms = (...args) => {
    const r = spawnSync(process.execPath, [HMS_BIN, ...args], {
      env: sandbox.env,
      cwd: sandbox.flakeDir,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    })
    if (r.status !== 0)
      throw new Error(`hms ${args.join(' ')} exited with ${r.status}: ${r.stderr.trim().split('\n').pop()}`)
    return args.includes('--json') ? JSON.parse(r.stdout) : undefined
  }
  const narinfos = (dir) => new Set(readdirSync(dir).filter((f) => f.endsWith('.narinfo')))
  const checks = []
  try {
    hms('--flake', FLAKE)
    const before = narinfos(cache)
    sandbox.setPackage('ripgrep', '14.2')
    const watch = hms('--flake', FLAKE, '--json')
    const added = [...narinfos(cache)].filter((f) => !before.has(f))
    const generation = sandbox.generation()
    const whole = hms('--flake', FLAKE, '--json', '--mode', 'generation', '--cache', 'fresh')
    const closure = sandbox.closure(generation.path)
    const pushedNames = new Set(watch.push.pushed.map((p) => `${p.path.slice(11, 43)}.narinfo`))
    const exact = added.length === pushedNames.size && added.every((f) => pushedNames.has(f))
    checks.push({
      check: 'precision: hms switch reported exactly the paths that appeared in the cache',
      ok: exact,
      detail: `${watch.push.pushed.length} reported, ${added.length} new in the cache`,
    })
    const wholeOk = whole.push.pushed.length === closure.length && narinfos(fresh).size === closure.length
    checks.push({
      check: 'precision: the generation push sent the whole closure',
      ok: wholeOk,
      detail: `${whole.push.pushed.length} pushed, closure ${closure.length}`,
    })
    const names = watch.push.pushed.map((p) => p.path.slice(44)).sort()
    log(
      `  hms switch pushed ${watch.push.pushed.length} paths (${names.join(', ')}), ${fmtBytes(watch.push.bytes)}; ` +
        `generation push ${whole.push.pushed.length} paths, ${fmtBytes(whole.push.bytes)}`,
    )
    const rows = [
      {
        section: 'precision',
        figure: 'paths pushed after a one-package change',
        hms: { text: `${watch.push.pushed.length}` },
        baseline: { label: 'whole-generation push', text: `${whole.push.pushed.length}` },
        ratio: watch.push.pushed.length / whole.push.pushed.length,
        ratioText: `${((watch.push.pushed.length / whole.push.pushed.length) * 100).toFixed(0)} %`,
        target: 'only what the switch built',
        met: exact,
      },
      {
        section: 'precision',
        figure: 'bytes pushed (NAR) after a one-package change',
        hms: { text: fmtBytes(watch.push.bytes) },
        baseline: { label: 'whole-generation push', text: fmtBytes(whole.push.bytes) },
        ratio: watch.push.bytes / whole.push.bytes,
        ratioText: `${((watch.push.bytes / whole.push.bytes) * 100).toFixed(0)} %`,
        target: 'information',
        met: null,
      },
    ]
    return {
      rows,
      checks,
      extra: {
        precision: {
          pushed: names,
          paths: { hms: watch.push.pushed.length, generation: whole.push.pushed.length },
          bytes: { hms: watch.push.bytes, generation: whole.push.bytes },
        },
      },
    }
  } finally {
    sandbox.cleanup()
  }
}
