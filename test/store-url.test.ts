// Issue 4: a cache given as a Nix store URL, pushed to by hms itself (post-build hook + nix copy),
// with real Nix and no cachix at all on PATH.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultOptions } from '../src/plan/options.js'
import { defaultConfig } from '../src/plan/config.js'
import { makePlan } from '../src/plan/plan.js'
import { summarySchema } from '../src/plan/schema.js'
import { withHookOrFallback } from '../src/switch/trust.js'
import { withoutCachix } from './helpers/common.js'
import { makeSandbox, type Sandbox } from './helpers/sandbox.js'
import { capturedOutput } from './helpers/sink.js'

const sandboxes: Sandbox[] = []
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup()
})

/** A sandbox whose PATH has home-manager's stand-in but no cachix at all. */
function sandbox(): Sandbox {
  const s = makeSandbox()
  sandboxes.push(s)
  withoutCachix(s)
  return s
}

function writeConfig(s: Sandbox, config: unknown): void {
  const dir = join(s.env.XDG_CONFIG_HOME!, 'hms')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
}

function summaryOf(stdout: string) {
  return summarySchema.parse(JSON.parse(stdout))
}

const sorted = (items: Iterable<string>) => [...items].sort()
const nix = (s: Sandbox, args: string[]) =>
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', ...args], {
    env: s.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
const switchArgs = ['--flake', '.#mitsio@shoshin', '--json']

/** Puts a `nix` first on PATH that notes each `nix copy` it runs; returns the lines noted so far. */
function logNixCopies(s: Sandbox): () => string[] {
  const bin = join(s.root, 'nix-logged')
  const log = join(s.root, 'nix-copies')
  const real = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
  mkdirSync(bin)
  const script = `#!/bin/sh\ncase " $* " in *" copy "*) echo "$*" >> '${log}';; esac\nexec '${real}' "$@"\n`
  writeFileSync(join(bin, 'nix'), script, { mode: 0o755 })
  s.env.PATH = `${bin}:${s.env.PATH}`
  return () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
}

/** Puts `nix` and `nix-store` first on PATH, noting every call; returns the calls noted so far. */
function logNixCalls(s: Sandbox): () => string[] {
  const bin = join(s.root, 'nix-calls')
  const log = join(s.root, 'nix-calls.log')
  mkdirSync(bin)
  for (const program of ['nix', 'nix-store']) {
    const real = execFileSync('sh', ['-c', `command -v ${program}`], { env: s.env, encoding: 'utf8' }).trim()
    writeFileSync(join(bin, program), `#!/bin/sh\necho "${program} $*" >> '${log}'\nexec '${real}' "$@"\n`, {
      mode: 0o755,
    })
  }
  s.env.PATH = `${bin}:${s.env.PATH}`
  return () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
}

describe('hms switch with a file:// cache', () => {
  it(
    'pushes exactly what the run builds, signed, in one nix copy after the build; ' +
      'another store substitutes it all with require-sigs',
    async () => {
      const s = sandbox()
      const cache = join(s.root, 'nas')
      execFileSync('nix-store', [
        '--generate-binary-cache-key',
        'hms-test-1',
        join(s.home, 'cache.sec'),
        join(s.root, 'cache.pub'),
      ])
      writeConfig(s, { caches: { nas: { url: `file://${cache}`, secretKeyFile: '~/cache.sec' } } })
      // ripgrep (built last) sleeps: pushing while the build went on would take several nix copy runs.
      s.setFixture({ sleep: 2 })
      const copies = logNixCopies(s)
      // A build by someone else during the run: cachix's store watcher would push it, a post-build hook never sees it.
      const stranger = s.run('sh', [
        '-c',
        `sleep 0.5; nix-build --no-out-link -E 'derivation { name = "stranger"; system = builtins.currentSystem; ` +
          `builder = "/bin/sh"; args = ["-c" "echo ${s.root} > $out"]; }'`,
      ])
      const run = await s.hms(['--cache', `file://${cache}`, 'switch', ...switchArgs])
      const strangerPath = (await stranger).stdout.trim()
      expect(run.exitCode, run.stderr).toBe(0)
      const summary = summaryOf(run.stdout)
      const generation = s.generation()!
      expect(summary).toMatchObject({
        cache: `file://${cache}`,
        mode: 'watch-exec',
        command: ['home-manager', 'switch', '--flake', '.#mitsio@shoshin'],
        exitCode: 0,
      })
      expect(summary.switch).toMatchObject({ ok: true, generation: generation.number })
      // Fresh salt: everything in the generation was built by this run (or is referenced by what was),
      // and so were nix-env's user-environment and env-manifest.nix and the news file beside it.
      const closure = s.built()
      expect(sorted(s.cachePaths(cache))).toEqual(sorted(closure))
      expect(sorted(summary.push.pushed.map((p) => p.path))).toEqual(sorted(closure))
      expect(strangerPath).toMatch(/^\/nix\/store\/.*-stranger$/)
      expect(s.cachePaths(cache).has(strangerPath)).toBe(false)
      expect(summary.push).toMatchObject({ failed: [], queued: [], excluded: [] })
      // Walked from the references the push queried; nix-store would name the same three.
      const generationPaths = new Set(s.closure(generation.path))
      const outside = closure.filter((p) => !generationPaths.has(p))
      expect(sorted(summary.push.outsideGeneration)).toEqual(sorted(outside))
      expect(outside.map((p) => p.slice(44)).sort()).toEqual(['env-manifest.nix', 'hm-news.json', 'user-environment'])
      const sizes = s.cacheNarSizes(cache)
      for (const p of summary.push.pushed) expect(p.bytes).toBe(sizes.get(p.path))
      // One session for all the run built, as a bare `nix copy` of the same paths: no batches during the build.
      expect(copies(), 'nix copy runs').toHaveLength(1)
      expect(run.stderr).toMatch(/running post-build-hook '.*hms-hook-[^/]+\/post-build-hook'/)
      expect(run.stderr).not.toMatch(/cachix/i)

      const sigs = nix(s, ['path-info', '--store', `file://${cache}`, '--sigs', '-r', generation.path])
        .trim()
        .split('\n')
      const generationClosure = s.closure(generation.path)
      expect(sigs).toHaveLength(generationClosure.length)
      for (const line of sigs) expect(line).toMatch(/\shms-test-1:[A-Za-z0-9+/=]{88}/)

      const publicKey = readFileSync(join(s.root, 'cache.pub'), 'utf8').trim()
      const pull = (key: string, store: string) =>
        s.run('nix-store', [
          '--store',
          join(s.root, store),
          '--option',
          'substituters',
          `file://${cache}`,
          '--option',
          'require-sigs',
          'true',
          '--option',
          'trusted-public-keys',
          key,
          '-r',
          generation.path,
        ])
      const trusted = await pull(publicKey, 'host-b')
      expect(trusted.exitCode, trusted.stderr).toBe(0)
      expect(trusted.stderr).not.toMatch(/^building /m)
      expect((trusted.stderr.match(/^copying path .* from 'file:/gm) ?? []).length).toBe(generationClosure.length)
      // The control: the same pull trusting another key gets nothing, so the signatures above are what made it work.
      const untrusted = await pull(`other-key-1:${publicKey.split(':')[1]}`, 'host-c')
      expect(untrusted.exitCode).not.toBe(0)
    },
  )

  it('after the build runs one Nix program, nix copy: outputs, closure and confirmation come from files', async () => {
    const s = sandbox()
    const cache = join(s.root, 'nas')
    const calls = logNixCalls(s)
    const run = await s.hms(['--cache', `file://${cache}`, ...switchArgs])
    const noted = calls()
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(sorted(summary.push.pushed.map((p) => p.path))).toEqual(sorted(s.built()))
    const sizes = s.cacheNarSizes(cache)
    for (const p of summary.push.pushed) expect(p.bytes).toBe(sizes.get(p.path))
    expect(summary.push.outsideGeneration.map((p) => p.slice(44)).sort()).toEqual([
      'env-manifest.nix',
      'hm-news.json',
      'user-environment',
    ])
    // home-manager's own calls (nix-build, nix-env, nix-store --realise, nix eval) aside: the outputs
    // come from the .drv files, the closure and the confirmation from the cache's narinfos.
    expect(noted.filter((c) => / (copy|path-info) |--query/.test(c)).map((c) => c.split(' --to ')[0])).toEqual([
      'nix --extra-experimental-features nix-command copy',
    ])
  })

  it('starts the package diff when home-manager exits, beside the push, not after it', async () => {
    const s = sandbox()
    const cache = `file://${join(s.root, 'cache')}`
    const first = await s.hms(['--cache', cache, ...switchArgs])
    expect(first.exitCode, first.stderr).toBe(0)
    // A nix whose `copy` holds back until the diff's `nix path-info` has started, and gives up after 30 s.
    const bin = join(s.root, 'nix-holds')
    const started = join(s.root, 'path-info-started')
    const gaveUp = join(s.root, 'copy-gave-up')
    const real = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
    mkdirSync(bin)
    const script = `#!/bin/sh
case " $* " in
  *" path-info "*) : > '${started}' ;;
  *" copy "*)
    i=0
    while [ ! -e '${started}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e '${started}' ] || : > '${gaveUp}' ;;
esac
exec '${real}' "$@"
`
    writeFileSync(join(bin, 'nix'), script, { mode: 0o755 })
    s.env.PATH = `${bin}:${s.env.PATH}`
    s.setPackage('ripgrep', '14.2')
    const run = await s.hms(['--cache', cache, ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.diff?.changed).toEqual([{ name: 'hm-pkg-ripgrep', from: '14.1', to: '14.2' }])
    const pushed = summary.push.pushed.map((p) => p.path)
    expect(pushed).toContain(s.generation()!.path)
    expect(pushed.filter((p) => p.endsWith('-hm-pkg-ripgrep-14.2'))).toHaveLength(1)
    // Had the diff waited for the push, the copy would have waited for it in vain.
    expect(existsSync(gaveUp)).toBe(false)
  }, 90_000)

  it('diffs once when a switch builds nothing new (back to an earlier configuration)', async () => {
    const s = sandbox()
    const cache = `file://${join(s.root, 'cache')}`
    expect((await s.hms(['--cache', cache, ...switchArgs])).exitCode).toBe(0)
    s.setPackage('ripgrep', '14.2')
    expect((await s.hms(['--cache', cache, ...switchArgs])).exitCode).toBe(0)
    s.setPackage('ripgrep', '14.1')
    const calls = logNixCalls(s)
    const back = await s.hms(['--cache', cache, ...switchArgs])
    expect(back.exitCode, back.stderr).toBe(0)
    expect(summaryOf(back.stdout).diff?.changed).toEqual([{ name: 'hm-pkg-ripgrep', from: '14.2', to: '14.1' }])
    expect(calls().filter((c) => c.startsWith('nix ') && c.includes(' path-info '))).toHaveLength(1)
  })

  it('pushes nothing on a rerun, and only the changed package and what depends on it after an edit', async () => {
    const s = sandbox()
    const cache = join(s.root, 'cache')
    const env = { HMS_CACHE: `file://${cache}` }
    const first = await s.hms(switchArgs, { env })
    expect(first.exitCode, first.stderr).toBe(0)
    const gen1 = s.generation()!
    const before = s.cachePaths(cache)
    expect(sorted(before)).toEqual(sorted(s.built()))
    expect(gen1.number).toBe(1)

    const again = await s.hms(switchArgs, { env })
    expect(again.exitCode, again.stderr).toBe(0)
    expect(summaryOf(again.stdout).push).toMatchObject({ attempted: true, pushed: [], failed: [] })
    expect(s.cachePaths(cache)).toEqual(before)

    s.setPackage('hello', '2.13')
    const edited = await s.hms(switchArgs, { env })
    expect(edited.exitCode, edited.stderr).toBe(0)
    const gen2 = s.generation()!
    const fresh = s.built().filter((p) => !before.has(p))
    expect(fresh.map((p) => p.slice(44)).sort()).toEqual([
      'env-manifest.nix',
      'hm-pkg-hello-2.13',
      'home-manager-generation',
      'home-manager-path',
      'user-environment',
    ])
    expect(sorted(summaryOf(edited.stdout).push.pushed.map((p) => p.path))).toEqual(sorted(fresh))
    expect(sorted(s.cachePaths(cache))).toEqual(sorted([...before, ...fresh]))

    const human = await s.hms(['--flake', '.#mitsio@shoshin'], { env })
    expect(human.stderr).toMatch(
      new RegExp(
        `✔ shoshin switched in \\d+\\.\\ds \\(generation ${gen2.number}\\) · nothing new to push → file://${cache}`,
      ),
    )
  })

  it('keeps push.exclude matches, and what needs them, out of the cache and reports them', async () => {
    const s = sandbox()
    const cache = join(s.root, 'cache')
    writeConfig(s, { cache: `file://${cache}`, push: { exclude: ['^hm-pkg-git-'] } })
    const run = await s.hms(switchArgs)
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    const closure = s.built()
    const byName = (name: string) => closure.find((p) => p.slice(44) === name)!
    // user-environment and env-manifest.nix refer to home-manager-path: they stay out too.
    const left = [
      'hm-pkg-git-2.44',
      'home-manager-path',
      'home-manager-generation',
      'user-environment',
      'env-manifest.nix',
    ].map(byName)
    expect(sorted(summary.push.excluded)).toEqual(sorted(left))
    expect(sorted(s.cachePaths(cache))).toEqual(sorted(closure.filter((p) => !left.includes(p))))
    expect(summary.push.failed).toEqual([])
    expect(summary.exitCode).toBe(0)

    const human = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', `file://${cache}`, '--mode', 'generation'])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stderr).toContain('3 paths not pushed because of push.exclude (or needing such a path)')
    expect(human.stderr).toContain(byName('hm-pkg-git-2.44'))
  })

  it(
    'switches anyway when an http:// cache is unreachable, queues the paths, ' + 'and verify says why with exit 2',
    async () => {
      const s = sandbox()
      const port = await closedPort()
      const url = `http://127.0.0.1:${port}`
      const run = await s.hms(['--cache', url, '--verify', ...switchArgs], { env: { HMS_RETRY_BASE_MS: '1' } })
      expect(run.exitCode, run.stderr).toBe(0)
      const summary = summaryOf(run.stdout)
      const generation = s.generation()!
      expect(summary.switch).toMatchObject({ ok: true, generation: generation.number })
      expect(summary.push.pushed).toEqual([])
      // The paths the run built; each push of one also carries its closure.
      expect(summary.push.failed).toContain(generation.path)
      expect(summary.push.failed.length).toBeGreaterThanOrEqual(7)
      expect(sorted(summary.push.queued)).toEqual(sorted(summary.push.failed))
      // Push wording: what became of the paths; "nothing was counted as missing" belongs to verify.
      expect(run.stderr).toContain(
        `push to ${url} failed: cannot reach ${url}: connection refused — check the URL and the network; ` +
          'what is not pushed is queued for hms push --pending',
      )
      expect(run.stderr).not.toContain('nothing was counted as missing')
      expect(summary.verify).toMatchObject({ ok: false, error: `cannot reach ${url}: connection refused`, missing: [] })

      const status = await s.hms(['status', '--json', '--cache', url])
      expect(JSON.parse(status.stdout).pending).toEqual({ [url]: summary.push.queued.length })

      const verify = await s.hms(['verify', '--cache', url])
      expect(verify.exitCode).toBe(2)
      expect(verify.stderr).toBe(
        `hms: cannot reach ${url}: connection refused — check the URL and the network; ` +
          `nothing was counted as missing\n`,
      )
    },
  )

  it('pushes the generation closure in generation mode, which is the fallback for an untrusted user', async () => {
    const s = sandbox()
    const cache = join(s.root, 'cache')
    const run = await s.hms(['--cache', `file://${cache}`, '--mode', 'generation', ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = summaryOf(run.stdout)
    expect(summary.mode).toBe('generation')
    expect(run.stderr).not.toContain('post-build-hook')
    const closure = s.closure(s.generation()!.path)
    expect(sorted(s.cachePaths(cache))).toEqual(sorted(closure))
    expect(sorted(summary.push.pushed.map((p) => p.path))).toEqual(sorted(closure))
  })
})

describe('interrupted', () => {
  it(
    'Ctrl-C during the build: exit 130, the hook is gone, nothing left running, ' + 'what was built is queued',
    async () => {
      const s = sandbox()
      const cache = join(s.root, 'cache')
      s.setFixture({ sleep: 30 })
      let pid = 0
      const running = s.hms(['--cache', `file://${cache}`, ...switchArgs], {
        onSpawn: (p) => {
          pid = p
        },
      })
      // Interrupted once the hook has recorded builds (ripgrep, built last, then sleeps).
      const hookLog = () =>
        readdirSync(s.env.TMPDIR!)
          .filter((f) => f.startsWith('hms-hook-'))
          .map((d) => join(s.env.TMPDIR!, d, 'built'))
      const recorded = () => hookLog().flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n') : []))
      const deadline = Date.now() + 20_000
      while (recorded().filter(Boolean).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const built = recorded()
        .map((line) => line.split(' ')[0]!)
        .filter((drv) => drv.endsWith('.drv'))
      expect(built.length).toBeGreaterThanOrEqual(3)
      process.kill(-pid, 'SIGINT')
      const run = await running
      expect(run.exitCode, run.stderr).toBe(130)
      expect(readdirSync(s.env.TMPDIR!).filter((f) => f.startsWith('hms-hook-'))).toEqual([])
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(s.root) && !line.startsWith('ps '))
      expect(left).toEqual([])
      const summary = summaryOf(run.stdout)
      expect(summary.switch).toMatchObject({ ok: false, signal: 'SIGINT' })
      // Nothing is sent after the key; every output built so far waits in the queue.
      expect(summary.push.pushed).toEqual([])
      const outputs = execFileSync('nix-store', ['--query', '--outputs', ...built], { env: s.env, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
      for (const p of outputs) expect(summary.push.queued).toContain(p)
      // Interrupted, not failed (issue 12): what was not confirmed is queued.
      expect(summary.push.failed).toEqual([])
      const status = await s.hms(['status', '--json', '--cache', `file://${cache}`])
      expect(JSON.parse(status.stdout).pending).toEqual({ [`file://${cache}`]: summary.push.queued.length })
    },
  )
})

describe('untrusted users', () => {
  it('say so once, with how to become trusted, and plan the generation push instead', async () => {
    const { out, sink } = await capturedOutput()
    const plan = makePlan({
      options: { ...defaultOptions(), cache: 'file:///tmp/c' },
      passthrough: [],
      config: defaultConfig,
      env: { USER: 'mitsio', HOME: '/h' },
      hostname: 'shoshin',
    })
    const untrusted = async () => ({ trusted: false, user: 'mitsio', detail: 'trusted-users = root' })
    const fallback = await withHookOrFallback(plan, { env: {}, out }, untrusted)
    expect(fallback.mode).toBe('generation')
    expect(fallback.notes).toContain(
      "no post-build hook (mitsio is not a trusted Nix user): pushed the new generation's closure instead",
    )
    expect(sink.text.split('\n').filter(Boolean)).toHaveLength(1)
    expect(sink.text).toMatch(
      /cannot register a post-build hook: mitsio is not a trusted Nix user \(trusted-users = root\)/,
    )
    expect(sink.text).toContain('add "trusted-users = root mitsio" to /etc/nix/nix.conf')
    expect(sink.text).toContain('restart nix-daemon')
    const trusted = await withHookOrFallback(plan, { env: {}, out }, async () => ({
      trusted: true,
      user: 'root',
      detail: '',
    }))
    expect(trusted).toBe(plan)
  })
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
