import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { alive, binWith, joined, nothingLeft, pending, runs, sleep, until, useSandboxes } from './helpers/common.js'
import { FIXTURES_BIN, HMS_BIN, type Sandbox } from './helpers/sandbox.js'
import { hmsCommand, openTerminal, type Terminal } from './helpers/tmux.js'

const sandbox = useSandboxes()
const terminals: Terminal[] = []
afterEach(() => {
  for (const t of terminals.splice(0)) t.close()
})

/** hms on a real pseudo-terminal (util-linux `script`), as a person runs it. */
async function onTerminal(s: Sandbox, columns: number, args: string) {
  return s.run('script', ['-qec', `stty cols ${columns} rows 30; node ${HMS_BIN} ${args}`, '/dev/null'], {
    env: { CI: undefined, NO_COLOR: undefined, TERM: 'xterm', CACHIX_STANDIN_PUSH_DELAY: '0.2' },
    timeoutMs: 60_000,
  })
}

/** A tmux terminal with a shell prompt, closed after the test. */
async function terminal(s: Sandbox, env: Record<string, string | undefined> = {}): Promise<Terminal> {
  const t = openTerminal(s, env)
  terminals.push(t)
  await t.waitFor(/[$#] $/m, 20_000)
  return t
}

/** The build's `sleep N`, run for this sandbox (its marker: another test may build with the same sleep). */
const sleeping = (s: Sandbox, seconds: number) => () => runs(s, `/bin/sleep ${seconds}`) || runs(s, `sleep ${seconds}`)
const exitShown = /exit=(\d+)/

/** The hms the terminal's shell runs. */
const hmsPid = (s: Sandbox, t: Terminal) =>
  s.processes().find((p) => p.ppid === t.shellPid && p.args.includes(HMS_BIN))!.pid

/** Nothing the sandbox started runs any more, but the terminal itself. */
const nothingLeftBut = (s: Sandbox, t: Terminal) => nothingLeft(s, [t.serverPid, t.shellPid])

describe('on a terminal', () => {
  it.each([100, 0])('shows a spinner while pushing and the summary in colour (%i columns)', async (columns) => {
    const s = sandbox()
    const run = await onTerminal(s, columns, '--flake .#mitsio@shoshin')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.stdout.length).toBeLessThan(200_000)
    if (columns > 0) expect(run.stdout).toMatch(/pushing to modular-workspace: \d+ paths?, [\d.]+ KiB/)
    const summary = /\u001b\[32m✔\u001b\[39m shoshin switched in [\d.]+s \(generation 1\) · pushed 12 paths/
    expect(run.stdout).toMatch(summary)
  })
})

describe('the spinner on a terminal', () => {
  it('hms push shows one while cachix pushes', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const run = await onTerminal(s, 100, 'push')
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/pushing to modular-workspace: \d+ paths?, [\d.]+ KiB/)
    expect(run.stdout).toMatch(/✔\u001b\[39m pushed 9 paths/)
  })

  it('a store-URL switch: no spinner while the build writes, nothing glued to nix lines, [hook]', async () => {
    const s = sandbox()
    const cache = join(s.root, 'nas')
    mkdirSync(cache)
    s.setFixture({ sleep: 2 })
    const run = await onTerminal(s, 100, `--flake .#mitsio@shoshin --cache file://${cache}`)
    expect(run.exitCode, run.stdout).toBe(0)
    const lastNixLine = run.stdout.lastIndexOf('running post-build-hook')
    expect(lastNixLine).toBeGreaterThan(0)
    const spinner = run.stdout.indexOf('pushing to file://')
    if (spinner >= 0) expect(spinner).toBeGreaterThan(lastNixLine)
    expect(run.stdout).not.toMatch(/pushing to [^\n]*running post-build-hook/)
    expect(run.stdout).toMatch(
      /switched in [\d.]+s \(generation 1\) · pushed 12 paths, [\d.]+ KiB → file:\/\/\S+ \S*\[hook\]/,
    )
  })
})

describe('keys typed in a real terminal (tmux)', () => {
  it('Ctrl-C during the build with a file:// cache: exit 130, nothing switched, nothing left running', async () => {
    const s = sandbox()
    const cache = join(s.root, 'nas')
    mkdirSync(cache)
    s.setFixture({ sleep: 60 })
    const t = await terminal(s)
    t.type(`${hmsCommand} --flake .#mitsio@shoshin --cache file://${cache}; echo "exit=$?"`)
    await until(sleeping(s, 60), 60_000)
    // The other packages are built and recorded by hms's hook; they are pushed only after the build.
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(/switch failed after [\d.]+s \(stopped by SIGINT\)/)
    expect(s.generation()).toBeUndefined()
    await nothingLeftBut(s, t)
  })

  it('Ctrl-C during the build under cachix watch-exec: exit 130, nothing switched, nothing left running', async () => {
    const s = sandbox()
    s.setFixture({ sleep: 60 })
    const t = await terminal(s)
    t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
    await until(sleeping(s, 60), 60_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(/switch failed after [\d.]+s \(stopped by SIGINT\)/)
    expect(s.generation()).toBeUndefined()
    await nothingLeftBut(s, t)
    // The prompt is back and takes input: no spinner holds the terminal.
    t.type('echo typed-after')
    await t.waitFor(/^typed-after$/m, 10_000)
  })

  it('Ctrl-C while the push spinner turns: exit 130 at once, the switch kept, the generation queued', async () => {
    const s = sandbox()
    const t = await terminal(s, { CACHIX_STANDIN_PUSH_DELAY: '3' })
    t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
    await t.waitFor(/pushing to modular-workspace: \d+ path/, 60_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 15_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    const generation = s.generation()
    expect(generation?.number).toBe(1)
    expect(pending(s).map((e) => e.path)).toContain(generation!.path)
    await nothingLeftBut(s, t)
  })

  it('Ctrl-C during hms push to a store URL: exit 130, the copy stopped, the generation still queued', async () => {
    const s = sandbox()
    expect((await s.hms(['--flake', '.#mitsio@shoshin', '--no-push'])).exitCode).toBe(0)
    const cache = join(s.root, 'nas')
    mkdirSync(cache)
    const realNix = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
    // A copy that takes its time, as a big closure over a slow link does: Nix says how many paths it
    // sends once it has asked the cache, then uploads.
    const slow = `*" copy "*) echo 'copying 9 paths...' >&2; sleep 60 ;;`
    const path = binWith(s, 'nix', `#!/bin/sh\ncase " $* " in ${slow} esac\nexec ${realNix} "$@"\n`)
    const t = await terminal(s, { PATH: path })
    t.type(`${hmsCommand} push --cache file://${cache}; echo "exit=$?"`)
    await t.waitFor(/pushing to file:\/\/\S+: \d+ path/, 60_000)
    await until(sleeping(s, 60), 10_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 15_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(pending(s).map((e) => e.path)).toEqual([s.generation()!.path])
    await nothingLeftBut(s, t)
  })

  it('Ctrl-C while a switch copies to a store URL: what landed counts as pushed, the rest queued', async () => {
    const s = sandbox()
    const cache = join(s.root, 'nas')
    const realNix = execFileSync('sh', ['-c', 'command -v nix'], { env: s.env, encoding: 'utf8' }).trim()
    // The copy after home-manager takes its time, as over a slow link; nothing reaches the cache before Ctrl-C.
    const slow = `*" copy "*) echo 'copying 9 paths...' >&2; sleep 60 ;;`
    const path = binWith(s, 'nix', `#!/bin/sh\ncase " $* " in ${slow} esac\nexec ${realNix} "$@"\n`)
    const t = await terminal(s, { PATH: path })
    t.type(`${hmsCommand} --flake .#mitsio@shoshin --cache file://${cache}; echo "exit=$?"`)
    await t.waitFor(/pushing to file:\/\/\S+: \d+ path/, 60_000)
    await until(sleeping(s, 60), 10_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 15_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(/push to file:\/\/\S+ interrupted by SIGINT: \d+ paths? queued/)
    expect(screen).not.toMatch(/retry \d\/\d|pushed \d+ path/)
    expect(s.cachePaths(cache)).toEqual(new Set())
    const history = readFileSync(join(s.env.XDG_STATE_HOME!, 'hms', 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
    expect(JSON.parse(history.at(-1)!)).toMatchObject({ paths: 0 })
    const queued = pending(s).map((e) => e.path)
    for (const p of s.built())
      expect(
        queued.some((q) => s.closure(q).includes(p)),
        p,
      ).toBe(true)
    await nothingLeftBut(s, t)
  })

  it('Ctrl-Z stops the build with hms, like any job; fg carries on to a good switch', async () => {
    const s = sandbox()
    s.setFixture({ sleep: 4 })
    const t = await terminal(s)
    // Alone on its line: after Ctrl-Z the shell would run whatever follows at once.
    t.type(`${hmsCommand} --flake .#mitsio@shoshin`)
    await until(sleeping(s, 4), 60_000)
    t.keys('C-z')
    await t.waitFor(/Stopped\s+node/, 15_000)
    // nix-build (home-manager's child) is stopped too, not building on behind the shell's back.
    const states = () =>
      s
        .processes()
        .filter((p) => p.args.startsWith('nix-build '))
        .map((p) => p.state)
    await until(() => states().length > 0 && states().every((state) => state === 'T'), 10_000)
    await sleep(5000)
    expect(s.generation()).toBeUndefined()
    t.type('fg')
    await t.waitFor(/shoshin switched in|switch failed/, 60_000)
    t.type('echo "exit=$?"')
    const screen = await t.waitFor(exitShown, 10_000)
    expect(screen.match(exitShown)![1], screen).toBe('0')
    expect(screen).toMatch(/shoshin switched in [\d.]+s \(generation 1\)/)
    expect(s.generation()?.number).toBe(1)
  })

  it('home-manager can ask on /dev/tty (sudo, ssh, pinentry do): the answer typed reaches it', async () => {
    const s = sandbox()
    const path = binWith(
      s,
      'home-manager',
      [
        '#!/bin/sh',
        "printf 'Proceed? ' >/dev/tty || exit 97",
        'read answer </dev/tty || exit 98',
        'echo "home-manager heard: $answer" >/dev/tty',
        `exec ${join(FIXTURES_BIN, 'home-manager')} "$@"`,
      ].join('\n'),
    )
    const t = await terminal(s, { PATH: path })
    t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
    await t.waitFor(/Proceed\? /, 30_000)
    t.type('yes please')
    const screen = await t.waitFor(exitShown, 60_000)
    expect(screen).toContain('home-manager heard: yes please')
    expect(screen.match(exitShown)![1], screen).toBe('0')
    expect(s.generation()?.number).toBe(1)
  })

  it('ten switches whose cachix reports all at once and exits: each hms ends right after its summary', async () => {
    const s = sandbox()
    const line = (i: number) => `Pushing /nix/store/${String(i).repeat(32)}-instant-${i} (1.00 KiB)`
    const report = [0, 1, 2].map(line).join('\\n')
    const path = binWith(
      s,
      'cachix',
      [
        '#!/bin/sh',
        `[ "$1" = --version ] && exec ${join(FIXTURES_BIN, 'cachix')} --version`,
        'while [ "$1" != -- ]; do shift; done; shift',
        '"$@"; status=$?',
        `printf '${report}\\n' >&2`,
        'exit $status',
      ].join('\n'),
    )
    const t = await terminal(s, { PATH: path })
    t.type(`for i in 1 2 3 4 5 6 7 8 9 10; do ${hmsCommand} --flake .#mitsio@shoshin; echo "run $i exit=$?"; done`)
    const screen = await t.waitFor(/run 10 exit=\d+/, 150_000)
    expect(screen.match(/run \d+ exit=0/g)).toHaveLength(10)
    expect(screen.match(/switched in [\d.]+s \(generation 1\) · pushed 3 paths/g)).toHaveLength(10)
  }, 180_000)

  it(
    'the terminal closed during the build (SIGHUP): hms and the build end, nothing switched, ' + 'nothing left',
    async () => {
      const s = sandbox()
      s.setFixture({ sleep: 60 })
      const t = await terminal(s)
      t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
      await until(sleeping(s, 60), 60_000)
      const hms = hmsPid(s, t)
      t.close()
      await until(() => !alive(hms), 20_000)
      // The terminal is gone too: nothing of this sandbox may run.
      await nothingLeft(s)
      expect(s.generation()).toBeUndefined()
    },
  )

  const alone = [
    ['SIGTERM', '143'],
    ['SIGINT', '130'],
  ] as const
  it.each(alone)(
    '%s sent to hms alone (another terminal) reaches the build: exit %s, nothing left',
    async (signal, code) => {
      const s = sandbox()
      s.setFixture({ sleep: 60 })
      const t = await terminal(s)
      t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
      await until(sleeping(s, 60), 60_000)
      process.kill(hmsPid(s, t), signal)
      const screen = await t.waitFor(exitShown, 30_000)
      expect(screen.match(exitShown)![1], screen).toBe(code)
      expect(s.generation()).toBeUndefined()
      await nothingLeftBut(s, t)
    },
  )
})

describe('hms init in a real terminal (tmux)', () => {
  const configFile = (s: Sandbox) => join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json')
  const cacheQuestion = /^Cache \(a Cachix name[^\n]*\): /gm

  /** `hms init` asking its first question, stopped with Ctrl-Z, then `fg`: the question drawn again. */
  async function stoppedAndResumed(s: Sandbox): Promise<Terminal> {
    const t = await terminal(s)
    // Alone on its line: after Ctrl-Z the shell would run whatever follows at once.
    t.type(`${hmsCommand} init`)
    await t.waitFor(cacheQuestion, 30_000)
    t.keys('C-z')
    await t.waitFor(/Stopped\s+node/, 15_000)
    t.type('fg; echo "exit=$?"')
    await until(() => (t.screen().match(cacheQuestion) ?? []).length === 2, 15_000)
    return t
  }

  it('Ctrl-Z then fg: the question is still answered and the config written, as in any interactive CLI', async () => {
    const s = sandbox()
    const t = await stoppedAndResumed(s)
    t.paste('my-cache\n\n\n\n\n')
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('0')
    expect(screen).toContain(`wrote ${configFile(s)}`)
    expect(JSON.parse(readFileSync(configFile(s), 'utf8'))).toMatchObject({ cache: 'my-cache', user: 'mitsio' })
  })

  it('Ctrl-C after Ctrl-Z and fg still cancels: exit 130, nothing written, the message on its own line', async () => {
    const s = sandbox()
    const t = await stoppedAndResumed(s)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 15_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(/^hms: hms init cancelled; nothing written$/m)
    expect(existsSync(configFile(s))).toBe(false)
  })

  it('answers typed ahead: every question is shown with its answer, the defaults written', async () => {
    const s = sandbox()
    const t = await terminal(s)
    // One burst: the shell reads its line, the rest waits in the terminal for hms, typed ahead.
    // Line feeds: a carriage return then a line feed would be one Enter to readline (CRLF).
    t.paste([`${hmsCommand} init; echo "exit=$?"`, 'ahead-cache', '', '', '', '', ''].join('\n'))
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('0')
    expect(screen).toMatch(/^Cache \(a Cachix name[^\n]*\): ahead-cache$/m)
    expect(screen).toMatch(/^User in the flake attribute user@host \[mitsio\]: ?$/m)
    expect(screen).toMatch(/^Flake with your homeConfigurations \(- for none\) \[[^\n]*\]: ?$/m)
    expect(screen).toMatch(/^This host's profile name \[[^\n]*\]: ?$/m)
    expect(screen).toMatch(/^Hosts of profile [^\n]*, comma-separated \[[^\n]*\]: ?$/m)
    const config = JSON.parse(readFileSync(configFile(s), 'utf8'))
    expect(config).toMatchObject({ cache: 'ahead-cache', user: 'mitsio', flake: s.flakeDir })
  })
})

describe('after Ctrl-C on a terminal, what hms prints starts on a fresh line', () => {
  it('home-manager asking on /dev/tty, interrupted: hms does not write after its ^C', async () => {
    const s = sandbox()
    const path = binWith(
      s,
      'home-manager',
      [
        '#!/bin/sh',
        "printf 'Really switch? [y/N] ' >/dev/tty",
        'read answer </dev/tty || exit 1',
        `exec ${join(FIXTURES_BIN, 'home-manager')} "$@"`,
      ].join('\n'),
    )
    const t = await terminal(s, { PATH: path })
    t.type(`${hmsCommand} --flake .#mitsio@shoshin; echo "exit=$?"`)
    await t.waitFor(/Really switch\? \[y\/N\] $/m, 30_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(/^Really switch\? \[y\/N\] \^C$/m)
    expect(screen).toMatch(/^✖ shoshin switch failed after [\d.]+s \(stopped by SIGINT\)/m)
    expect(s.generation()).toBeUndefined()
  })

  it('Ctrl-C during a retry back-off: the summary starts its own line, not after ^C', async () => {
    const s = sandbox()
    const t = await terminal(s, { CACHIX_STANDIN_FAIL: 'network', HMS_RETRY_BASE_MS: '60000' })
    t.type(`${hmsCommand} --flake .#mitsio@shoshin --retries 3; echo "exit=$?"`)
    await t.waitFor(/retry 1\/3 in 60\.0s/, 60_000)
    t.keys('C-c')
    const screen = await t.waitFor(exitShown, 30_000)
    expect(screen.match(exitShown)![1], screen).toBe('130')
    expect(screen).toMatch(
      joined(
        /^✔ shoshin switched in [\d.]+s \(generation 1\) · /m,
        /push to modular-workspace interrupted by SIGINT: \d+ paths? queued/,
      ),
    )
    expect(screen).not.toMatch(/\^C\S/)
  })
})
