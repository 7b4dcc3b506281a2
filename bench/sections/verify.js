// `hms verify` of a 10 000-path closure against a file:// cache that holds all of it, next to the
// floor it cannot go below: `nix path-info --json -r` of the same closure (hms asks Nix for the
// closure once, then looks for one <hash>.narinfo per path).
//
// The closure is made cheaply and for real: 10 000 one-line files written into /nix/store under
// valid store path names, plus a root file listing them, registered in one transaction with
// `nix-store --register-validity` (the root's references are the 10 000). Building the same with
// a derivation takes minutes (a 4 000-output derivation took 19 s here, growing faster than
// linearly). The paths are deterministic, kept between runs (no GC root: a garbage collection
// removes them and the next run makes them again in about 2 s).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { median, stats, timeSync } from '../lib/measure.js'
import { HMS_BIN, makeSandbox } from '../lib/sandbox.js'

const N = 10_000
const SALT = 'hms-bench-verify-v1'
const NIX = ['--extra-experimental-features', 'nix-command']

function storePathFor(key, name) {
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz'
  const digest = createHash('sha256').update(`${SALT}:${key}`).digest()
  let hash = ''
  for (let i = 0; i < 32; i++) hash += alphabet[digest[i] % 32]
  return `/nix/store/${hash}-${name}`
}

function valid(p, env) {
  return spawnSync('nix-store', ['--check-validity', p], { env, stdio: 'ignore' }).status === 0
}

/** The root of a valid 10 001-path closure, made if missing; how long that took (0 when reused). */
function ensureClosure(env) {
  const leaves = Array.from({ length: N }, (_, i) => storePathFor(i, `hms-bench-verify-${i}`))
  const root = storePathFor('root', 'hms-bench-verify-root')
  if (valid(root, env) && valid(leaves[0], env) && valid(leaves[N - 1], env)) return { root, setupMs: 0 }
  accessSync('/nix/store', constants.W_OK)
  const start = performance.now()
  for (const [i, p] of leaves.entries()) if (!existsSync(p)) writeFileSync(p, `${SALT} ${i}\n`)
  if (!existsSync(root)) writeFileSync(root, `${leaves.join('\n')}\n`)
  let input = ''
  for (const p of leaves) input += `${p}\n\n0\n`
  input += `${root}\n\n${N}\n${leaves.join('\n')}\n`
  const r = spawnSync('nix-store', ['--register-validity'], { env, input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`nix-store --register-validity: ${r.stderr.trim().split('\n').pop()}`)
  return { root, setupMs: performance.now() - start }
}

export async function verify({ work, runs = 5, log }) {
  const help = spawnSync(process.execPath, [HMS_BIN, 'verify', '--help'], { encoding: 'utf8' })
  const notAvailable = (why) => ({
    rows: [
      {
        section: 'verify',
        figure: `\`hms verify\`, ${N.toLocaleString('en')}-path closure, file:// cache`,
        hms: { text: 'not available' },
        baseline: { label: '—', text: '—' },
        ratio: null,
        ratioText: '',
        target: '≤ 1 s',
        met: null,
        note: why,
      },
    ],
    checks: [],
    extra: { verify: { available: false, reason: why } },
  })
  if (help.status !== 0) return notAvailable('`hms verify --help` fails: the command does not exist in this build')

  const sandbox = makeSandbox(work)
  try {
    let closure
    try {
      closure = ensureClosure(sandbox.env)
    } catch (error) {
      return notAvailable(`cannot make the ${N}-path closure here: ${error.message}`)
    }
    const { root, setupMs } = closure
    const info = spawnSync('nix', [...NIX, 'path-info', '--json', '-r', root], {
      env: sandbox.env,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    })
    const paths = JSON.parse(info.stdout)
    log(
      `  closure of ${paths.length} paths ` +
        `${setupMs ? `made in ${(setupMs / 1000).toFixed(1)} s` : 'reused from an earlier run'}`,
    )
    // A file:// cache holding every path: narinfo files as nix copy writes them (no NARs needed to answer "is it
    // there").
    const cache = path.join(sandbox.root, 'verify-cache')
    mkdirSync(cache)
    writeFileSync(path.join(cache, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n')
    for (const p of paths) {
      const hash = p.path.slice(11, 43)
      writeFileSync(
        path.join(cache, `${hash}.narinfo`),
        `StorePath: ${p.path}\nURL: nar/${hash}.nar\nCompression: none\nNarHash: ${p.narHash}\nNarSize: ` +
          `${p.narSize}\nReferences: ${(p.references ?? []).map((r) => r.slice(11)).join(' ')}\n`,
      )
    }
    const url = `file://${cache}`
    const options = { env: sandbox.env, cwd: sandbox.root }
    const floor = []
    const hms = []
    for (let i = -1; i < runs; i++) {
      const a = timeSync('nix', [...NIX, 'path-info', '--json', '-r', root], options)
      const b = timeSync(process.execPath, [HMS_BIN, 'verify', root, '--cache', url], options)
      if (i < 0) continue
      floor.push(a)
      hms.push(b)
    }
    // Correctness: all present → exit 0 and 10 001 present; 100 narinfos removed → exit 1 and exactly those missing.
    const checks = []
    const json = (args) => {
      const r = spawnSync(process.execPath, [HMS_BIN, 'verify', root, '--cache', url, '--json', ...args], {
        ...options,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
      return { code: r.status, result: JSON.parse(r.stdout || '{}') }
    }
    const all = json([])
    checks.push({
      check: `verify: all ${paths.length} present → exit 0`,
      ok: all.code === 0 && all.result.present === paths.length && all.result.total === paths.length,
      detail: `exit ${all.code}, ${all.result.present}/${all.result.total}`,
    })
    const removed = paths.slice(0, 100).map((p) => p.path)
    for (const p of removed) rmSync(path.join(cache, `${p.slice(11, 43)}.narinfo`))
    const some = json([])
    const missing = new Set((some.result.missing ?? []).map((m) => m.path))
    checks.push({
      check: 'verify: 100 narinfos removed → exit 1, exactly those missing',
      ok: some.code === 1 && missing.size === 100 && removed.every((p) => missing.has(p)),
      detail: `exit ${some.code}, ${missing.size} missing`,
    })
    const ms = median(hms)
    log(`  hms verify: median ${ms.toFixed(0)} ms; nix path-info -r alone: ${median(floor).toFixed(0)} ms`)
    return {
      rows: [
        {
          section: 'verify',
          figure: `\`hms verify\`, ${paths.length.toLocaleString('en')}-path closure, file:// cache`,
          hms: { stats: stats(hms), unit: 'ms' },
          baseline: { label: '`nix path-info --json -r` of the closure alone', stats: stats(floor), unit: 'ms' },
          ratio: Number((ms / median(floor)).toFixed(3)),
          ratioText: `${(ms / median(floor)).toFixed(2)}× the floor (+${Math.round(ms - median(floor))} ms)`,
          target: '≤ 1 s',
          met: ms <= 1000,
        },
      ],
      checks,
      extra: { verify: { available: true, paths: paths.length, setupMs: Math.round(setupMs), runs } },
    }
  } finally {
    sandbox.cleanup()
  }
}
