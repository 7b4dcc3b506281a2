// The stand-ins must behave like the real tools (../shared/cachix-facts.md) and
// must be able to fail, or every integration test built on them proves nothing.
// These tests call the stand-ins directly, never hms.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { nothingLeft, runs } from './helpers/common.js'
import { makeSandbox, SECRET_MARKER, type RunOptions, type Sandbox } from './helpers/sandbox.js'

const ESC = '\u001b'
const RED_CROSS = `${ESC}[91m✗ ${ESC}[0m`
const NO_CREDENTIALS = `
Neither auth token nor signing key are present.

They are looked up via $CACHIX_AUTH_TOKEN and $CACHIX_SIGNING_KEY,
and if missing also looked up from ~/.config/cachix/cachix.dhall

Read https://mycache.cachix.org for instructions how to push to your binary cache.`

const sandboxes: Sandbox[] = []
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.cleanup()
})

function sandbox(): Sandbox {
  const sb = makeSandbox()
  sandboxes.push(sb)
  return sb
}

const HM_SWITCH = ['home-manager', 'switch', '--flake', '.#mitsio@shoshin']

function watchExec(sb: Sandbox, cache: string, opts?: RunOptions, hmArgs: string[] = []) {
  return sb.run('cachix', ['watch-exec', cache, '--', ...HM_SWITCH, ...hmArgs], opts)
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let size = bytes
  let unit = 0
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024
    unit += 1
  }
  return `${size.toFixed(2)} ${units[unit]}`
}

/** The store paths of cachix's `Pushing /nix/store/… (size)` lines, in order. */
function pushedPaths(stderr: string): string[] {
  return [...stderr.matchAll(/^(?:.*?)Pushing (\/nix\/store\/\S+) \(/gm)].map((m) => m[1]!)
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Resolves once the fixture's sleeping builder runs (found by the sandbox's marker, helpers/procs.ts). */
const builderSleeping = (sb: Sandbox) => waitFor(() => runs(sb, '/bin/sleep 30'))

describe('home-manager stand-in', () => {
  it('builds with real Nix and links generation 1, then 2 after a change', async () => {
    const sb = sandbox()
    const first = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@shoshin'])
    expect(first.exitCode).toBe(0)
    expect(first.stderr).toMatch(/building '\/nix\/store\/\S+-hm-pkg-hello-2\.12\.drv'/)
    expect(first.stdout).toMatch(/^Starting Home Manager activation\n/)
    expect(first.stdout).toContain('Activating installPackages\n')
    const gen1 = sb.generation()
    expect(gen1?.number).toBe(1)
    expect(gen1?.path).toMatch(/^\/nix\/store\/[a-z0-9]{32}-home-manager-generation$/)
    expect(fs.readlinkSync(path.join(sb.home, '.hm-session-vars.sh'))).toContain('-home-manager-files/')

    const closure = sb.closure(gen1!.path).map((p) => p.replace(/^\/nix\/store\/[a-z0-9]{32}-/, ''))
    expect(closure.sort()).toEqual(
      [
        'activation-script',
        'hm-lib-zlib-1.3',
        'hm-pkg-git-2.44',
        'hm-pkg-hello-2.12',
        'hm-pkg-ripgrep-14.1',
        'hm-session-vars.sh',
        'home-manager-files',
        'home-manager-generation',
        'home-manager-path',
      ].sort(),
    )

    sb.setPackage('git', '2.45')
    const second = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@shoshin'])
    expect(second.exitCode).toBe(0)
    expect(sb.generation()?.number).toBe(2)
    expect(sb.generation()?.path).not.toBe(gen1!.path)
  })

  it('chooses the attribute like home-manager: last host form found wins, else $USER', async () => {
    const sb = sandbox()
    const byHost = await sb.run('home-manager', ['build', '--no-out-link', '--flake', '.', '-v'], {
      env: { HM_STANDIN_HOSTNAME: 'gyakusatsu.example.org' },
    })
    expect(byHost.exitCode).toBe(0)
    expect(byHost.stdout).toContain('Using flake homeConfiguration for mitsio@gyakusatsu\n')
    const fallback = await sb.run('home-manager', ['build', '--no-out-link', '--flake', sb.flakeDir, '-v'], {
      env: { HM_STANDIN_HOSTNAME: 'elsewhere' },
    })
    expect(fallback.exitCode).toBe(0)
    expect(fallback.stdout).not.toContain('Using flake homeConfiguration')
    expect(fallback.stderr).toContain('hm-fixture: building hello-2.12 for mitsio\n')

    fs.cpSync(sb.flakeDir, path.join(sb.home, '.config/home-manager'), { recursive: true })
    const byDefault = await sb.run('home-manager', ['build', '--no-out-link', '-v'], { cwd: sb.root })
    expect(byDefault.exitCode).toBe(0)
    expect(byDefault.stdout).toBe('')
    const none = await sb.run('home-manager', ['switch', '--flake', path.join(sb.root, 'nothing-here')])
    expect(none.exitCode).toBe(1)
    expect(none.stderr).toContain('No such file or directory')
  })

  it('builds but links nothing on a dry run', async () => {
    const sb = sandbox()
    const result = await sb.run('home-manager', ['switch', '-n', '--flake', '.#mitsio@shoshin'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('This is a dry run\n')
    expect(result.stdout).toMatch(/^nix-env --profile \S+\/nix\/profiles\/home-manager --set \/nix\/store\/\S+$/m)
    expect(sb.generation()).toBeUndefined()
    expect(fs.existsSync(path.join(sb.home, '.hm-session-vars.sh'))).toBe(false)
  })

  it('records its argv in order and rejects what home-manager rejects', async () => {
    const sb = sandbox()
    const argvFile = path.join(sb.root, 'argv')
    const args = [
      'switch',
      '--flake',
      '.#mitsio@kinoite',
      '-b',
      'bak',
      '--option',
      'cores',
      '1',
      '-j',
      '1',
      '--show-trace',
      '-L',
    ]
    const ok = await sb.run('home-manager', args, { env: { HM_STANDIN_ARGV_FILE: argvFile } })
    expect(ok.exitCode).toBe(0)
    expect(fs.readFileSync(argvFile, 'utf8')).toBe(`${args.join('\n')}\n`)

    const unknown = await sb.run('home-manager', ['switch', '-k'], { env: { HM_STANDIN_ARGV_FILE: argvFile } })
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toMatch(/home-manager: unknown option '-k'\nRun '\S+ --help' for usage help\n$/)
    expect(fs.readFileSync(argvFile, 'utf8')).toBe('switch\n-k\n')

    const missing = await sb.run('home-manager', ['switch', '--cores'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/missing argument for --cores/)
    expect((await sb.run('home-manager', ['--version'])).stdout).toBe('25.11-pre\n')
  })

  it(
    'sets the profile before activating, as 25.11 does: a file in the way leaves the new generation ' +
      'current, exit 1',
    async () => {
      const sb = sandbox()
      fs.mkdirSync(path.join(sb.home, '.config/hm-fixture'), { recursive: true })
      fs.writeFileSync(path.join(sb.home, '.config/hm-fixture/config'), 'mine\n')
      const result = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@shoshin'])
      expect(result.exitCode).toBe(1)
      expect(result.stdout).toMatch(/Existing file '\S+\/\.config\/hm-fixture\/config' is in the way of '\S+'/)
      expect(sb.generation()?.number).toBe(1)
      expect(fs.readFileSync(path.join(sb.home, '.config/hm-fixture/config'), 'utf8')).toBe('mine\n')
      const listed = await sb.run('home-manager', ['generations'])
      expect(listed.stdout).toMatch(/: id 1 -> \/nix\/store\/\S+-home-manager-generation \(current\)\n$/)
    },
  )

  it('fails without linking when the attribute is missing or the build fails', async () => {
    const sb = sandbox()
    const noAttr = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@nowhere'])
    expect(noAttr.exitCode).toBe(1)
    expect(noAttr.stderr).toContain(`error: flake 'path:${sb.flakeDir}' does not provide attribute`)
    expect(noAttr.stdout).toBe('')

    sb.setFixture({ fail: true })
    const broken = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@shoshin'])
    // `nix build` exits 1 for a failed build (nix-build would say 100).
    expect(broken.exitCode).toBe(1)
    expect(broken.stderr).toContain('building ripgrep-14.1 failed on purpose')
    expect(broken.stderr).toMatch(/error: builder for '\/nix\/store\/\S+-hm-pkg-ripgrep-14\.1\.drv' failed/)
    expect(broken.stdout).toBe('')
    expect(sb.generation()).toBeUndefined()
  })

  it('stops promptly on Ctrl-C to its process group, leaving nothing behind', async () => {
    const sb = sandbox()
    sb.setFixture({ sleep: 30 })
    let interrupted = 0
    const result = await sb.run('home-manager', ['switch', '--flake', '.#mitsio@shoshin'], {
      onSpawn: (pid) =>
        void builderSleeping(sb).then(() => {
          interrupted = Date.now()
          process.kill(-pid, 'SIGINT')
        }),
    })
    expect(interrupted).toBeGreaterThan(0)
    expect(Date.now() - interrupted).toBeLessThan(3000)
    expect(result.exitCode).toBe(130)
    expect(result.stderr).toContain('ripgrep sleeps 30 s')
    expect(sb.generation()).toBeUndefined()
    await nothingLeft(sb)
  })
})

describe('cachix stand-in', () => {
  it('reports its version, overridable for version checks', async () => {
    const sb = sandbox()
    expect((await sb.run('cachix', ['--version'])).stdout).toBe('cachix 1.11.1\n')
    expect((await sb.run('cachix', ['--version'], { env: { CACHIX_STANDIN_VERSION: '1.6.1' } })).stdout).toBe(
      'cachix 1.6.1\n',
    )
  })

  it('refuses to run anything without credentials, with the exact message', async () => {
    const sb = sandbox()
    sb.cacheDir('mycache')
    const marker = path.join(sb.root, 'ran')
    const result = await sb.run('cachix', ['watch-exec', 'mycache', '--', 'touch', marker], {
      env: { CACHIX_AUTH_TOKEN: undefined },
    })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toBe(NO_CREDENTIALS)
    expect(fs.existsSync(marker)).toBe(false)

    fs.mkdirSync(path.join(sb.home, '.config/cachix'), { recursive: true })
    fs.writeFileSync(
      path.join(sb.home, '.config/cachix/cachix.dhall'),
      `{ authToken = "${SECRET_MARKER}", hostname = "https://cachix.org", binaryCaches = [] : List { name : Text, ` +
        `secretKey : Text } }\n`,
    )
    const withConfig = await sb.run('cachix', ['watch-exec', 'mycache', '--', 'touch', marker], {
      env: { CACHIX_AUTH_TOKEN: undefined },
    })
    expect(withConfig.exitCode).toBe(0)
    expect(fs.existsSync(marker)).toBe(true)
    expect(withConfig.stderr + withConfig.stdout).not.toContain(SECRET_MARKER)
  })

  it('rejects an unknown cache, --watch-mode auto and unknown options before running CMD', async () => {
    const sb = sandbox()
    sb.cacheDir('mycache')
    const marker = path.join(sb.root, 'ran')
    const noCache = await sb.run('cachix', ['watch-exec', 'nope', '--', 'touch', marker])
    expect(noCache.exitCode).toBe(1)
    expect(noCache.stderr).toBe("\nBinary cache nope doesn't exist or you don't have access.")
    const auto = await sb.run('cachix', ['watch-exec', '--watch-mode', 'auto', 'mycache', '--', 'touch', marker])
    expect(auto.exitCode).toBe(1)
    expect(auto.stderr).toMatch(
      /^option --watch-mode: Unsupported mode: auto\. Supported values: auto \| store \| post-build-hook\n/,
    )
    const unknown = await sb.run('cachix', ['watch-exec', 'mycache', 'touch', marker, '--flake', 'x'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toMatch(/^Invalid option `--flake'\n/)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('passes stdio, extra descriptors and the exit code of CMD through, and logs its argv', async () => {
    const sb = sandbox()
    sb.cacheDir('mycache')
    const log = path.join(sb.root, 'cachix.log')
    const result = await sb.run(
      'bash',
      ['-c', 'cachix watch-exec mycache -- sh -c "echo out; echo err >&2; echo fd3 >&3; exit 7" 3>&1'],
      { env: { CACHIX_STANDIN_LOG: log } },
    )
    expect(result.exitCode).toBe(7)
    expect(result.stdout).toBe('out\nfd3\n')
    expect(result.stderr).toBe('err\n')
    expect(fs.readFileSync(log, 'utf8')).toBe(
      `${['watch-exec', 'mycache', '--', 'sh', '-c', 'echo out; echo err >&2; echo fd3 >&3; exit 7'].join('\t')}\n`,
    )

    // The hook's nix.conf comes first; the user's own configuration stays in effect.
    const confFiles = ['cachix', 'watch-exec', 'mycache', '--', 'sh', '-c', 'echo "$NIX_USER_CONF_FILES"']
    const own = await sb.run(confFiles[0]!, confFiles.slice(1), { env: { NIX_USER_CONF_FILES: '/etc/mine.conf' } })
    expect(own.stdout).toMatch(/^\S+\/cachix-daemon\w{6}\/nix\.conf:\/etc\/mine\.conf\n$/)
    const xdg = await sb.run(confFiles[0]!, confFiles.slice(1))
    const hookConf = `${path.dirname(xdg.stdout.split(':')[0]!)}/nix.conf`
    expect(xdg.stdout).toBe(`${hookConf}:${sb.env.XDG_CONFIG_HOME}/nix/nix.conf:/etc/xdg/nix/nix.conf\n`)
    expect(xdg.stdout.startsWith(sb.env.TMPDIR!)).toBe(true)
  })

  it('watch-exec pushes exactly the closure of what was built, then nothing, then only what changed', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    const first = await watchExec(sb, 'mycache')
    expect(first.exitCode).toBe(0)
    expect(first.stdout).toContain('Starting Home Manager activation\n')
    const gen1 = sb.generation()!
    // The generation's closure, and what the switch built beside it (user-environment, env-manifest.nix, hm-news.json).
    const closure1 = sb.built()
    expect(
      closure1
        .filter((p) => !sb.closure(gen1.path).includes(p))
        .map((p) => p.slice(44))
        .sort(),
    ).toEqual(['env-manifest.nix', 'hm-news.json', 'user-environment'])
    expect(sb.cachePaths(cache)).toEqual(new Set(closure1))
    expect(fs.existsSync(path.join(cache, 'nix-cache-info'))).toBe(true)

    const sizes = sb.cacheNarSizes(cache)
    const reportLines = first.stderr.split('\n').filter((line) => line.startsWith('Pushing '))
    expect(reportLines.sort()).toEqual(closure1.map((p) => `Pushing ${p} (${humanSize(sizes.get(p)!)})`).sort())
    // Dependencies go first, and nothing else of cachix's is printed in this mode.
    const order = pushedPaths(first.stderr)
    const comesAfter = (path: string, deps: string[]) =>
      Math.max(...deps.filter((d) => d !== path).map((d) => order.indexOf(d))) < order.indexOf(path)
    expect(comesAfter(gen1.path, sb.closure(gen1.path))).toBe(true)
    const userEnvironment = order.find((p) => p.endsWith('-user-environment'))!
    expect(comesAfter(userEnvironment, sb.closure(userEnvironment))).toBe(true)
    expect(first.stderr).not.toMatch(/✗|⏳|All done|WARNING/)

    const again = await watchExec(sb, 'mycache')
    expect(again.exitCode).toBe(0)
    expect(pushedPaths(again.stderr)).toEqual([])
    expect(sb.generation()).toEqual(gen1)

    sb.setPackage('git', '2.45')
    const changed = await watchExec(sb, 'mycache')
    expect(changed.exitCode).toBe(0)
    const gen2 = sb.generation()!
    expect(gen2.number).toBe(2)
    const fresh = sb.built().filter((p) => !closure1.includes(p))
    expect(fresh.map((p) => p.slice(44)).sort()).toEqual([
      'env-manifest.nix',
      'hm-pkg-git-2.45',
      'home-manager-generation',
      'home-manager-path',
      'user-environment',
    ])
    expect(pushedPaths(changed.stderr).sort()).toEqual(fresh.sort())
    expect(sb.cachePaths(cache)).toEqual(new Set([...closure1, ...fresh]))

    const other = await sb.substitute(cache, gen2.path)
    expect(other.stderr).toContain(`copying path '${gen2.path}' from 'file://${cache}'`)
    expect(other.exitCode).toBe(0)
    expect(fs.existsSync(path.join(other.storeDir, gen2.path, 'home-path'))).toBe(true)
  })

  it('does not push what it did not build', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    expect((await sb.run('home-manager', HM_SWITCH.slice(1))).exitCode).toBe(0)
    const result = await watchExec(sb, 'mycache')
    expect(result.exitCode).toBe(0)
    expect(pushedPaths(result.stderr)).toEqual([])
    expect(sb.cachePaths(cache).size).toBe(0)
    const missing = await sb.substitute(cache, sb.generation()!.path)
    expect(missing.exitCode).not.toBe(0)
  })

  it('network failure: a red cross glued to the next line, nothing copied, exit code of CMD', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    const result = await watchExec(sb, 'mycache', {
      env: { CACHIX_STANDIN_FAIL: 'network', CACHIX_STANDIN_RETRY_DELAY: '0' },
    })
    expect(result.exitCode).toBe(0)
    expect(pushedPaths(result.stderr).sort()).toEqual(sb.built().sort())
    expect(result.stderr).toMatch(new RegExp(`${RED_CROSS.replaceAll('[', '\\[')}/nix/store/\\S+Pushing /nix/store/`))
    expect(result.stderr).toMatch(new RegExp(`${RED_CROSS.replaceAll('[', '\\[')}/nix/store/[^\\s✗]+$`))
    expect(result.stderr).not.toMatch(/retry #/)
    expect(sb.cachePaths(cache).size).toBe(0)
  })

  it('a failure matched by name loses only that path; its dependents still reach the cache', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    const result = await watchExec(sb, 'mycache', { env: { CACHIX_STANDIN_FAIL_MATCH: '-hm-pkg-git-' } })
    expect(result.exitCode).toBe(0)
    const closure = sb.built()
    const git = closure.find((p) => p.endsWith('-hm-pkg-git-2.44'))!
    expect(result.stderr).toContain(`Pushing ${git} (`)
    expect(result.stderr).toMatch(new RegExp(`${RED_CROSS.replaceAll('[', '\\[')}${git}Pushing /nix/store/`))
    expect(result.stderr.split('✗').length).toBe(2)
    expect(sb.cachePaths(cache)).toEqual(new Set(closure.filter((p) => p !== git)))
    const nars = fs.readdirSync(path.join(cache, 'nar'))
    expect(nars.length).toBe(closure.length - 1)
  })

  it('dies abruptly after CACHIX_STANDIN_CRASH_AFTER pushed paths', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    const result = await watchExec(sb, 'mycache', { env: { CACHIX_STANDIN_CRASH_AFTER: '2' } })
    expect(result.signal).toBe('SIGKILL')
    expect(result.exitCode).toBe(137)
    expect(sb.cachePaths(cache).size).toBe(2)
  })

  it('untrusted: warns in yellow and watches the whole store', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    const result = await watchExec(sb, 'mycache', { env: { CACHIX_STANDIN_UNTRUSTED: '1' } })
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toMatch(
      new RegExp(
        `^${ESC}\\[93mWARNING: ${ESC}\\[0mfailed to register a post-build hook for this command because you're not ` +
          `a trusted user\\. Falling back to watching the entire Nix store for new paths\\.\n` +
          `Watching /nix/store for new store paths \\.\\.\\.\n`,
      ),
    )
    expect(result.stderr).toMatch(/^Pushing \d+ paths \(\d+ are already present\) using zstd to cache mycache ⏳\n\n/m)
    expect(result.stderr).toMatch(/Stopped watching \/nix\/store and waiting for queue to empty \.\.\.\nDone\.\n$/)
    // Other builds on the machine may land in the cache too, as with the real store watcher.
    const pushed = sb.cachePaths(cache)
    for (const p of sb.closure(sb.generation()!.path)) expect(pushed.has(p)).toBe(true)
  })

  it('cachix push: header, per-path lines, All done; then nothing to push; network errors end it', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    expect((await sb.run('home-manager', HM_SWITCH.slice(1))).exitCode).toBe(0)
    const gen = sb.generation()!
    const closure = sb.closure(gen.path)
    expect(closure.length).toBe(9)

    const pushed = await sb.run('cachix', ['push', '-m', 'xz', 'mycache'], { input: `${gen.path}\n` })
    expect(pushed.exitCode).toBe(0)
    const narSizes = sb.cacheNarSizes(cache)
    expect(pushed.stderr).toBe(
      `Pushing 9 paths (0 are already present) using xz to cache mycache ⏳\n\n` +
        closure.map((p) => `Pushing ${p} (${humanSize(narSizes.get(p)!)})\n`).join('') +
        '\nAll done.\n',
    )
    expect(fs.readdirSync(path.join(cache, 'nar')).every((nar) => nar.endsWith('.nar.xz'))).toBe(true)

    const again = await sb.run('cachix', ['push', 'mycache', gen.path])
    expect(again.stderr).toBe('Nothing to push - all store paths are already on Cachix.\n')
    expect((await sb.run('cachix', ['push', 'mycache'], { input: '' })).stderr).toBe('Nothing to push.\n')

    sb.cacheDir('other')
    const down = await sb.run('cachix', ['push', 'other', gen.path], {
      env: { CACHIX_STANDIN_FAIL: 'network', CACHIX_STANDIN_RETRY_DELAY: '0' },
    })
    expect(down.exitCode).toBe(1)
    expect(down.stderr).toMatch(
      /^Pushing 9 paths \(0 are already present\) using zstd to cache other ⏳\n\nPushing (\S+) \(.*\)\n/,
    )
    expect(down.stderr).toContain(`${ESC}[93mretry #3 ${ESC}[0mPushing ${closure[0]} (`)
    expect(down.stderr).toMatch(/\ncachix: ConnectionError .*\n$/)
    expect(down.stderr).not.toContain('✗')
    expect(sb.cachePaths(sb.cacheDir('other')).size).toBe(0)
  })

  it('ignores a lone SIGINT while CMD runs; Ctrl-C to the group pushes what was built and stops', async () => {
    const sb = sandbox()
    const cache = sb.cacheDir('mycache')
    sb.setFixture({ sleep: 30 })
    let interrupted = 0
    const result = await watchExec(sb, 'mycache', {
      onSpawn: (pid) =>
        void builderSleeping(sb).then(async () => {
          process.kill(pid, 'SIGINT')
          await new Promise((resolve) => setTimeout(resolve, 500))
          interrupted = Date.now()
          process.kill(-pid, 'SIGINT')
        }),
    })
    expect(interrupted).toBeGreaterThan(0)
    expect(Date.now() - interrupted).toBeLessThan(3000)
    expect(result.signal).toBe('SIGINT')
    expect(sb.generation()).toBeUndefined()
    const pushed = pushedPaths(result.stderr)
    expect(pushed.length).toBeGreaterThan(0)
    expect(pushed.some((p) => p.includes('ripgrep') || p.includes('home-manager-generation'))).toBe(false)
    expect(sb.cachePaths(cache)).toEqual(new Set(pushed))
    await nothingLeft(sb)
  })
})
