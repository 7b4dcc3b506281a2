import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import {
  joined,
  noStackTrace as stackTrace,
  nothingLeft,
  pending,
  runs,
  summaryOf,
  until,
  useSandboxes,
} from '../helpers/common.js'
import { FIXTURES_BIN, HMS_BIN, type Sandbox } from '../helpers/sandbox.js'
import { formatIdentity, identityOf } from '../../src/lib/identity.js'

const sandbox = useSandboxes()

/** The stand-ins, with `name` replaced by a script of our own. */
function binWith(s: Sandbox, name: string, script: string): string {
  const bin = join(s.root, `bin-${name}`)
  mkdirSync(bin, { recursive: true })
  for (const entry of readdirSync(FIXTURES_BIN))
    if (entry !== name) symlinkSync(join(FIXTURES_BIN, entry), join(bin, entry))
  writeFileSync(join(bin, name), script)
  chmodSync(join(bin, name), 0o755)
  return s.env
    .PATH!.split(':')
    .map((d) => (d === FIXTURES_BIN ? bin : d))
    .join(':')
}

describe('process faults', () => {
  it('home-manager killed by a signal: reported as such, exit 128+N, nothing linked', async () => {
    const s = sandbox()
    const run = await s.hms(['--flake', '.#mitsio@shoshin'], {
      env: { PATH: binWith(s, 'home-manager', '#!/bin/sh\necho "Starting Home Manager activation"\nkill -KILL $$\n') },
    })
    expect(run.exitCode).toBe(137)
    expect(run.stderr).toMatch(/switch failed after [\d.]+s \(stopped by SIGKILL\)/)
    expect(run.stderr).not.toMatch(stackTrace)
    expect(s.generation()).toBeUndefined()
  })

  it(
    'cachix crashing mid-push: the switch is reported as done, unconfirmed paths are not counted and ' + 'are queued',
    async () => {
      const s = sandbox()
      const run = await s.hms(['--flake', '.#mitsio@shoshin', '--json', '--retries', '0'], {
        env: { CACHIX_STANDIN_CRASH_AFTER: '3' },
      })
      expect(run.exitCode, run.stderr).toBe(0)
      const summary = summaryOf(run.stdout)
      const generation = s.generation()!
      expect(summary.switch).toMatchObject({ ok: true, exitCode: 0, generation: generation.number })
      expect(summary.push.pushed).toEqual([])
      expect(summary.push.failed.length).toBeGreaterThanOrEqual(3)
      expect(summary.notes.join('\n')).toMatch(/cachix was killed by SIGKILL after the switch/)
      expect(
        pending(s)
          .map((e) => e.path)
          .sort(),
      ).toEqual([...new Set([...summary.push.failed, generation.path])].sort())
      // Up to 3 uploads landed before the crash; one may be hm-news.json, built outside the generation.
      const landed = s.cachePaths(s.cacheDir('modular-workspace'))
      expect(landed.size).toBeLessThanOrEqual(3)
      const again = await s.hms(['push', '--pending'])
      expect(again.exitCode, again.stderr).toBe(0)
      expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set([...s.closure(generation.path), ...landed]))
    },
  )

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s while cachix pushes: exit %i, switch kept, generation queued, no process left',
    async (signal, code) => {
      const s = sandbox()
      const cache = `push-${signal.toLowerCase()}-${process.pid}`
      s.cacheDir(cache)
      let pid = 0
      // The stand-in's `sleep` shows that cachix uploads, so home-manager has finished
      // (25.11 sets the profile before activating: a new generation alone does not say so).
      const env = { CACHIX_STANDIN_PUSH_DELAY: '3' }
      const running = s.hms(['--flake', '.#mitsio@shoshin', '--cache', cache, '--json'], {
        env,
        onSpawn: (p) => {
          pid = p
        },
      })
      await until(() => runs(s, 'sleep 3'))
      process.kill(pid, signal)
      const run = await running
      expect(run.exitCode).toBe(code)
      const summary = summaryOf(run.stdout)
      expect(summary.switch).toMatchObject({ ok: true, signal })
      expect(pending(s).map((e) => e.path)).toContain(s.generation()!.path)
      expect(pending(s).every((e) => e.reason === 'interrupted')).toBe(true)
      await nothingLeft(s)
    },
  )

  it('stdout closed early (hms --json | head -c 1, hms --plan | head -1): no EPIPE crash', async () => {
    const s = sandbox()
    for (const args of ['--json --flake .#mitsio@shoshin', '--plan']) {
      const run = await execa(
        'sh',
        ['-c', `node ${HMS_BIN} ${args} | head -c 1 >/dev/null; echo "status=\${PIPESTATUS:-$?}"`],
        { env: s.env, extendEnv: false, cwd: s.flakeDir, reject: false, shell: false },
      )
      expect(run.stderr).not.toMatch(/EPIPE|Unhandled|stackTrace/)
      expect(run.stderr).not.toMatch(stackTrace)
    }
    const bash = await execa(
      'bash',
      ['-c', `node ${HMS_BIN} --plan | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`],
      { env: s.env, extendEnv: false, cwd: s.flakeDir, reject: false },
    )
    expect(bash.stdout.trim()).toBe('0')
  })
})

describe('environment faults', () => {
  it(
    'a state dir that cannot be written: a pushing switch stops before it starts; ' + '--no-push warns and switches',
    async () => {
      const s = sandbox()
      // Root writes anywhere, so a file where hms's directory should be stands in for a read-only one.
      writeFileSync(join(s.env.XDG_STATE_HOME!, 'hms'), '')
      const run = await s.hms(['--flake', '.#mitsio@shoshin'])
      expect(run.exitCode, run.stderr).toBe(1)
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
      expect(run.stderr.trim()).toMatch(
        joined(
          /^hms: cannot write hms's state in .*\/state\/hms \(E[A-Z]+\); /,
          /not switching: a push that failed could not be queued — .*hms --no-push$/,
        ),
      )
      expect(s.generation()).toBeUndefined()
      const plain = await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])
      expect(plain.exitCode, plain.stderr).toBe(0)
      expect(plain.stderr).toMatch(
        /^! cannot write hms's state in .*\/state\/hms \(E[A-Z]+\): switching without the lock and history$/m,
      )
      expect(plain.stderr).not.toMatch(stackTrace)
      expect(s.generation()?.number).toBe(1)
    },
  )

  it('HOME unset: hms finds the home directory itself', async () => {
    const s = sandbox()
    const run = await s.hms(['--plan', '-p', 'kinoite'], {
      env: { HOME: undefined, XDG_CONFIG_HOME: undefined, XDG_STATE_HOME: undefined },
    })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('profile  kinoite')
  })

  it('PATH without nix: one clear line, exit 127, nothing run', async () => {
    const s = sandbox()
    const bin = join(s.root, 'only-stand-ins')
    mkdirSync(bin)
    for (const name of ['home-manager', 'cachix']) symlinkSync(join(FIXTURES_BIN, name), join(bin, name))
    symlinkSync(process.execPath, join(bin, 'node'))
    const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { PATH: bin } })
    expect(run.exitCode).toBe(127)
    expect(run.stderr).toMatch(/^hms: nix not found on PATH — install Nix/)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('signals before anything switched', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during preflight (a slow cachix --version): exit %i, no process left', async (signal, code) => {
    const s = sandbox()
    const path = binWith(
      s,
      'cachix',
      `#!/bin/sh\nif [ "$1" = --version ]; then sleep 40; fi\nexec ${join(FIXTURES_BIN, 'cachix')} "$@"\n`,
    )
    let pid = 0
    const running = s.hms(['--flake', '.#mitsio@shoshin'], {
      env: { PATH: path },
      onSpawn: (p) => {
        pid = p
      },
    })
    await until(() => runs(s, 'sleep 40'))
    process.kill(pid, signal)
    const run = await running
    expect(run.exitCode).toBe(code)
    expect(run.stderr).not.toMatch(stackTrace)
    expect(s.generation()).toBeUndefined()
    await nothingLeft(s)
  })
})

describe('odd output from cachix, end to end', () => {
  it(
    'closed stdout, invalid UTF-8, \\r, a glued ✗: parsed where known, ' + 'passed through byte for byte otherwise',
    async () => {
      const s = sandbox()
      const gen = '/nix/store/0c2pjzqhcdv7fw6l9qa5vnj2p86bwm0v-hm-pkg-hello-2.12'
      const odd = Buffer.concat([
        Buffer.from('cachix: odd line one\r\n'),
        Buffer.from([0xff, 0xfe, 0x41, 0x0a]),
        Buffer.from(`Pushing ${gen} (1.00 KiB)\n\u001b[91m✗ \u001b[0m${gen}`),
        Buffer.from('glued tail text\n'),
        Buffer.from('progress 1\rprogress 2\rdone\n'),
      ])
      const script = join(s.root, 'odd-report')
      writeFileSync(script, odd)
      // A cachix that closes its stdout, runs the command, then reports oddly on stderr.
      const path = binWith(
        s,
        'cachix',
        `#!/bin/sh\n[ "$1" = --version ] && { echo "cachix 1.11.1"; exit 0; }\nexec 1>/dev/null\nwhile [ "$1" != -- ` +
          `]; do shift; done; shift\n"$@" 1>&2\nstatus=$?\ncat ${script} >&2\nexit $status\n`,
      )
      const run = await s.run(process.execPath, [HMS_BIN, '--flake', '.#mitsio@shoshin', '--json', '--retries', '0'], {
        env: { PATH: path },
      })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(summaryOf(run.stdout).push.failed).toEqual([gen])
      // Again, reading hms's stderr as bytes: the sandbox runner decodes it as text.
      const raw = spawnSync(process.execPath, [HMS_BIN, '--flake', '.#mitsio@shoshin', '--retries', '0'], {
        env: { ...s.env, PATH: path },
        cwd: s.flakeDir,
      })
      expect(raw.status).toBe(0)
      const passed = raw.stderr
      for (const piece of [
        Buffer.from('cachix: odd line one\r\n'),
        Buffer.from([0xff, 0xfe, 0x41, 0x0a]),
        Buffer.from('glued tail text\n'),
        Buffer.from('progress 1\rprogress 2\rdone\n'),
      ]) {
        expect(passed.includes(piece), JSON.stringify(piece.toString('latin1'))).toBe(true)
      }
      expect(passed.includes(Buffer.from(`Pushing ${gen}`))).toBe(false)
    },
  )
})

describe('review regressions', () => {
  it('runs through a symlink, as npm link and the Nix wrapper start it', async () => {
    const s = sandbox()
    const link = join(s.root, 'hms')
    symlinkSync(HMS_BIN, link)
    const run = await s.run(link, ['--version'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^hms \d+\.\d+\.\d+\n$/)
  })

  it('--strict: a push that failed at first but went through on retry is no failure', async () => {
    const s = sandbox()
    const path = binWith(
      s,
      'cachix',
      `#!/bin/sh\n[ "$1" = push ] && unset CACHIX_STANDIN_FAIL\nexec ${join(FIXTURES_BIN, 'cachix')} "$@"\n`,
    )
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--strict', '--json'], {
      env: { PATH: path, CACHIX_STANDIN_FAIL: 'network', HMS_RETRY_BASE_MS: '10' },
    })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout).push.failed).toEqual([])
    expect(s.cachePaths(s.cacheDir('modular-workspace'))).toEqual(new Set(s.built()))
  })

  it('hms push while another push holds the lock: refused at once, and the paths are queued', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    mkdirSync(join(s.env.XDG_STATE_HOME!, 'hms'), { recursive: true })
    // Held by a live process, recorded as hms records a holder (pid, start time, boot id).
    writeFileSync(join(s.env.XDG_STATE_HOME!, 'hms', 'push.lock'), `${formatIdentity(identityOf(process.pid))}\n`)
    const run = await s.hms(['push'])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toContain(`another hms is pushing (pid ${process.pid})`)
    expect(pending(s).map((e) => e.path)).toEqual([s.generation()!.path])
  })

  it('profile names are looked up as names, never as object properties', async () => {
    const s = sandbox()
    for (const name of ['toString', 'constructor', '__proto__']) {
      const run = await s.hms(['-p', name, '--plan'])
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(new RegExp(`^hms: unknown profile "${name}"`))
    }
  })
})

describe('remembered cachix version', () => {
  it('is asked again when the cachix binary changes', async () => {
    const s = sandbox()
    const path = binWith(s, 'cachix', `#!/bin/sh\nexec ${join(FIXTURES_BIN, 'cachix')} "$@"\n`)
    expect((await s.hms(['--flake', '.#mitsio@shoshin'], { env: { PATH: path } })).exitCode).toBe(0)
    const cachix = join(path.split(':')[0]!, 'cachix')
    writeFileSync(
      cachix,
      `#!/bin/sh\n# an older cachix\nCACHIX_STANDIN_VERSION=1.6.1 exec ${join(FIXTURES_BIN, 'cachix')} "$@"\n`,
    )
    const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { PATH: path } })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/cachix 1\.6\.1 is too old/)
  })
})
