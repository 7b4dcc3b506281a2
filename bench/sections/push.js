// Push to real servers on loopback (issue 11): 150 small new paths to file://, http:// (nginx
// WebDAV), ssh:// and ssh-ng:// (sshd into a second Nix store), each next to one bare
// `nix copy --to URL` of the same paths in the same run, to a fresh destination each time.
//   - `hms push --cache URL PATHS` against `nix copy --to URL PATHS`;
//   - what a switch that builds 150 new packages adds when it pushes to URL (`hms --cache URL`
//     minus `home-manager switch` alone, each building its own fresh 150), against the bare copy
//     of that generation's new paths; and home-manager with hms's hook alone (nothing pushed), which splits
//     that time into what Nix spends running the hook after each build and what hms itself does.
// The servers are test/helpers/servers.ts, bundled here with esbuild as the tests run them.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { median, stats, timeSync } from '../lib/measure.js'
import { bundleModules } from '../lib/bundle.js'
import { HMS_BIN, REPO, makeSandbox } from '../lib/sandbox.js'

const N = 150
const FLAKE = '.#mitsio@shoshin'
const NIX = ['--extra-experimental-features', 'nix-command']
const KINDS = ['file', 'http', 'ssh', 'ssh-ng']
const TRACE = path.join(REPO, 'bench/fixtures/trace-spawn.mjs')

/**
 * From a trace-spawn.mjs timeline (ms since hms started): how long its home-manager child ran, when
 * it was started (hms's start-up), what hms did after it (the push), and of that its `nix copy`.
 */
function timeline(trace) {
  const lines = readFileSync(trace, 'utf8').split('\n')
  const at = (what) => Number(lines.find((l) => l.split('\t')[1]?.startsWith(what))?.split('\t')[0])
  return {
    childMs: at('exit home-manager') - at('spawn home-manager'),
    startMs: at('spawn home-manager'),
    afterMs: at('hms exit') - at('exit home-manager'),
    copyMs: at('exit nix copy') - at('spawn nix copy'),
    beforeCopyMs: at('spawn nix copy') - at('exit home-manager'),
    afterCopyMs: at('hms exit') - at('exit nix copy'),
  }
}

/** The median of one timeline figure over several traced runs, in whole ms. */
const medianOf = (traces, key) => Math.round(median(traces.map((t) => t[key])))

async function loadServers(work) {
  return {
    ...(await import(await bundleModules(path.join(work, 'servers.mjs'), ['test/helpers/servers.ts']))),
    ...(await import(await bundleModules(path.join(work, 'hook.mjs'), ['src/backends/store/hook.ts']))),
  }
}

export async function push({ work, rounds = 6, switchRounds = 5, log }) {
  const { startServers, Hook } = await loadServers(work)
  const servers = await startServers({ ssh: true, http: true })
  const sandbox = makeSandbox(work)
  const checks = []
  try {
    const skip = { ssh: servers.sshSkip, 'ssh-ng': servers.sshSkip, http: servers.httpSkip }
    // The receiving store takes unsigned paths, so the bare copy and hms do the same work.
    if (servers.ssh) writeFileSync(servers.ssh.remoteNixConf, 'substituters =\nrequire-sigs = false\n')
    const env = { ...sandbox.env, ...(servers.ssh ? { NIX_SSHOPTS: servers.ssh.sshOpts } : {}) }
    let fresh = 0
    const destination = (kind) => {
      fresh++
      if (kind === 'file')
        return {
          url: `file://${path.join(sandbox.root, `dest-${fresh}`)}`,
          dir: path.join(sandbox.root, `dest-${fresh}`),
        }
      if (kind === 'http') return { url: `${servers.http.url('open')}/bench-${fresh}` }
      return servers.ssh.storeUrl(kind, `bench-${fresh}`)
    }
    const holds = (url, paths) => {
      const r = spawnSync('nix-store', ['--store', url, '--check-validity', '--print-invalid', ...paths], {
        env,
        encoding: 'utf8',
      })
      return r.status === 0 && r.stdout.trim() === ''
    }
    const bareCopy = (url, paths) => timeSync('nix', [...NIX, 'copy', '--to', url, ...paths], { env })
    const hmsJson = (args, traced = false) => {
      // Traced (trace-spawn.mjs): how long its home-manager child ran, so hms's own share is known.
      const trace = path.join(sandbox.root, `trace-${fresh}`)
      const pre = traced ? ['--import', TRACE] : []
      const start = process.hrtime.bigint()
      const r = spawnSync(process.execPath, [...pre, HMS_BIN, ...args, '--json'], {
        env: { ...env, HMS_BENCH_TRACE: trace },
        cwd: sandbox.flakeDir,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (r.status !== 0)
        throw new Error(`hms ${args.join(' ')} exited with ${r.status}: ${r.stderr.trim().split('\n').pop()}`)
      return { ms, summary: JSON.parse(r.stdout), trace: traced ? timeline(trace) : undefined }
    }
    const smallPaths = (round) => {
      const dir = path.join(sandbox.root, `small-${round}`)
      mkdirSync(dir)
      const files = Array.from({ length: N }, (_, i) => path.join(dir, `f${i}`))
      for (const [i, f] of files.entries()) writeFileSync(f, `${sandbox.root} ${round} ${i}\n`)
      return execFileSync('nix-store', ['--add', ...files], { env, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
    }

    const results = {}
    for (const kind of KINDS)
      results[kind] = {
        bare: [],
        hms: [],
        switchHms: [],
        switchCopy: [],
        homeManager: [],
        withHook: [],
        hmsOwn: [],
        traces: [],
      }

    // hms push of 150 paths vs nix copy of the same 150, pair by pair, alternating which goes first:
    // the ratio is the median of the pairs' ratios, so a slow moment of the machine hits both sides.
    for (let round = 0; round < rounds; round++) {
      const paths = smallPaths(round)
      for (const kind of KINDS) {
        if (skip[kind]) continue
        const order = round % 2 ? ['hms', 'bare'] : ['bare', 'hms']
        for (const who of order) {
          const dest = destination(kind)
          if (who === 'bare') {
            results[kind].bare.push(bareCopy(dest.url, paths))
          } else {
            const { ms, summary } = hmsJson(['push', '--cache', dest.url, ...paths])
            results[kind].hms.push(ms)
            const ok = summary.push.pushed.length === N && summary.push.failed.length === 0 && holds(dest.url, paths)
            checks.push({
              check: `push ${kind}: hms push reported ${N} pushed and the cache holds them all`,
              ok,
              detail: `${summary.push.pushed.length} pushed, ${summary.push.failed.length} failed`,
            })
          }
        }
      }
    }

    // One more hms push per kind, untimed and traced: where its time goes (ms since it started).
    const timelines = {}
    for (const kind of KINDS) {
      if (skip[kind]) continue
      const trace = path.join(sandbox.root, `trace-push-${kind}`)
      const paths = smallPaths(`traced-${kind}`)
      spawnSync(
        process.execPath,
        ['--import', TRACE, HMS_BIN, 'push', '--cache', destination(kind).url, '--json', ...paths],
        { env: { ...env, HMS_BENCH_TRACE: trace }, cwd: sandbox.flakeDir, stdio: 'ignore' },
      )
      timelines[kind] = readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ ms: Math.round(Number(l.split('\t')[0])), what: l.split('\t')[1] }))
    }

    // A switch that builds 150 new packages: with the push, without it, and the bare copy of what it built.
    sandbox.setFixture({
      size: 64,
      packages: Object.fromEntries(Array.from({ length: N }, (_, i) => [`p${i}`, `1.${i}`])),
    })
    const salt = `bench-push-${Date.now().toString(36)}-${process.pid}`
    let salts = 0
    const homeManager = (runEnv) => {
      sandbox.setFixture({ salt: `${salt}-${salts++}` })
      return timeSync('home-manager', ['switch', '--flake', FLAKE], { env: runEnv, cwd: sandbox.flakeDir })
    }
    // hms's post-build hook alone (nothing pushed): what Nix spends running it after each build.
    const hook = Hook.install(env)
    try {
      for (let round = 0; round < switchRounds; round++) {
        for (const kind of KINDS) {
          if (skip[kind]) continue
          // The three variants in a rotating order, so a slow moment does not always hit the same one.
          const variants = ['alone', 'hook', 'hms']
          for (let i = 0; i < 3; i++) {
            const who = variants[(round + i) % 3]
            if (who === 'alone') results[kind].homeManager.push(homeManager(env))
            if (who === 'hook') results[kind].withHook.push(homeManager(hook.env))
            if (who !== 'hms') continue
            sandbox.setFixture({ salt: `${salt}-${salts++}` })
            const before = new Set(sandbox.closure(sandbox.generation().path))
            const dest = destination(kind)
            const { ms, summary, trace } = hmsJson(['--cache', dest.url, '--flake', FLAKE], true)
            results[kind].switchHms.push(ms)
            results[kind].hmsOwn.push(ms - trace.childMs)
            results[kind].traces.push(trace)
            const built = sandbox.closure(sandbox.generation().path).filter((p) => !before.has(p))
            // The bare copy sends the same paths: the new generation's and what the switch built
            // beside it (the fixture's nix-env -i and news file), as hms does.
            const same = [...new Set([...built, ...summary.push.pushed.map((p) => p.path)])]
            const ok = summary.push.failed.length === 0 && holds(dest.url, same) && built.length >= N
            checks.push({
              check: `push ${kind}: a switch building ${N} packages pushed all it built`,
              ok,
              detail:
                `${built.length} new paths in the generation, ${summary.push.pushed.length} pushed, ` +
                `${summary.push.failed.length} failed`,
            })
            results[kind].switchCopy.push(bareCopy(destination(kind).url, same))
          }
          hook.drain()
        }
      }
    } finally {
      hook.remove()
    }

    const rows = []
    for (const kind of KINDS) {
      const r = results[kind]
      if (skip[kind]) {
        rows.push({
          section: 'push',
          figure: `${kind}://: ${N} new paths`,
          hms: { text: 'not run' },
          baseline: { label: '—', text: '—' },
          ratio: null,
          ratioText: '',
          target: '≤ 1.5×',
          met: null,
          note: skip[kind],
        })
        continue
      }
      const ratio = median(r.hms.map((ms, i) => ms / r.bare[i]))
      const minRatio = Math.min(...r.hms) / Math.min(...r.bare)
      rows.push({
        section: 'push',
        figure: `\`hms push\` of ${N} new paths to ${kind}://`,
        hms: { stats: stats(r.hms), unit: 'ms' },
        baseline: { label: `bare \`nix copy --to\``, stats: stats(r.bare), unit: 'ms' },
        ratio: Number(ratio.toFixed(2)),
        ratioText:
          `${ratio.toFixed(2)}× (median of ${r.hms.length} pairs; ` +
          `+${Math.round(median(r.hms) - median(r.bare))} ms; mins ${minRatio.toFixed(2)}×)`,
        target: '≤ 1.5×',
        met: ratio <= 1.5,
      })
      const added = r.switchHms.map((ms, i) => ms - r.homeManager[i])
      const addedRatio = median(added) / median(r.switchCopy)
      rows.push({
        section: 'push',
        figure: `  time a switch building ${N} packages adds, pushing to ${kind}://`,
        hms: {
          stats: stats(added),
          unit: 'ms',
          note:
            `switch ${Math.round(median(r.switchHms))} ms, ` +
            `home-manager alone ${Math.round(median(r.homeManager))} ms`,
        },
        baseline: { label: 'bare `nix copy --to` of what it built', stats: stats(r.switchCopy), unit: 'ms' },
        ratio: Number(addedRatio.toFixed(2)),
        ratioText: `${addedRatio.toFixed(2)}×`,
        target: '≤ 1.5×',
        met: addedRatio <= 1.5,
      })
      // The same time in two parts: Nix running the hook after each build (inside home-manager's
      // time), and hms's own work (its wall time minus its home-manager child's), which the
      // build's own jitter does not blur.
      const hookCost = r.withHook.map((ms, i) => ms - r.homeManager[i])
      const own = r.hmsOwn
      // Each switch and its bare copy ran back to back: the median of the pairs' ratios, as above.
      const ownRatio = median(own.map((ms, i) => ms / r.switchCopy[i]))
      const ownOfMedians = median(own) / median(r.switchCopy)
      rows.push({
        section: 'push',
        figure: `    of which hms's own work (its wall time minus its home-manager child's), ${kind}://`,
        hms: {
          stats: stats(own),
          unit: 'ms',
          note:
            `start-up ${medianOf(r.traces, 'startMs')} ms, after home-manager ${medianOf(r.traces, 'afterMs')} ms: ` +
            `${medianOf(r.traces, 'beforeCopyMs')} ms until its \`nix copy\` starts, the copy ` +
            `${medianOf(r.traces, 'copyMs')} ms, ${medianOf(r.traces, 'afterCopyMs')} ms after it; ` +
            'the hook inside the build: ' +
            `${Math.round(median(hookCost))} ms (home-manager with hms's hook ${Math.round(median(r.withHook))} ms, ` +
            `alone ${Math.round(median(r.homeManager))} ms)`,
        },
        baseline: { label: 'bare `nix copy --to` of what it built', stats: stats(r.switchCopy), unit: 'ms' },
        ratio: Number(ownRatio.toFixed(2)),
        ratioText:
          `${ownRatio.toFixed(2)}× (median of ${own.length} pairs; ` +
          `ratio of the medians ${ownOfMedians.toFixed(2)}×)`,
        target: '≤ 1.5×',
        met: ownRatio <= 1.5,
      })
      log(
        `  ${kind}: hms push ${Math.round(median(r.hms))} ms vs nix copy ${Math.round(median(r.bare))} ms ` +
          `(${ratio.toFixed(2)}×); switch adds ${Math.round(median(added))} ms vs copy ` +
          `${Math.round(median(r.switchCopy))} ms (${addedRatio.toFixed(2)}×; hook ${Math.round(median(hookCost))} ` +
          `ms, hms's own ${Math.round(median(own))} ms = ${ownRatio.toFixed(2)}×)`,
      )
    }
    return { rows, checks, extra: { push: { paths: N, rounds, switchRounds, results, skipped: skip, timelines } } }
  } finally {
    sandbox.cleanup()
    await servers.stop()
  }
}
