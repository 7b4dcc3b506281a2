// Issue 11: pushes to real servers on loopback — sshd for ssh:// and ssh-ng:// into second Nix
// stores, nginx with WebDAV for http:// (open, basic auth, netrc, a redirect) — with no cachix.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alive, pending, recordingCalls, summaryOf, withoutCachix } from './helpers/common.js'
import { makeSandbox, type RunResult, type Sandbox } from './helpers/sandbox.js'
import { AUTH_USER, startServers, type Servers } from './helpers/servers.js'
import { pushPlanSchema } from '../src/plan/schema.js'

let servers: Servers
let key: { sec: string; pub: string; dir: string }
beforeAll(async () => {
  servers = await startServers({ ssh: true, http: true })
  const dir = join(servers.dir, 'keys')
  mkdirSync(dir)
  key = { sec: join(dir, 'cache.sec'), pub: join(dir, 'cache.pub'), dir }
  execFileSync('nix-store', ['--generate-binary-cache-key', 'hms-remote-1', key.sec, key.pub])
  // The receiving Nix (ssh sessions) insists on signatures from this key, as a shared store would.
  if (servers.ssh)
    writeFileSync(
      servers.ssh.remoteNixConf,
      `substituters =\nrequire-sigs = true\ntrusted-public-keys = ${readFileSync(key.pub, 'utf8').trim()}\n`,
    )
}, 60_000)
afterAll(async () => {
  for (const s of sandboxes.splice(0)) s.cleanup()
  await servers?.stop()
})

const sandboxes: Sandbox[] = []
/** A sandbox without cachix on PATH, reaching the test sshd through NIX_SSHOPTS. */
function sandbox(): Sandbox {
  const s = makeSandbox()
  sandboxes.push(s)
  withoutCachix(s)
  if (servers.ssh) s.env.NIX_SSHOPTS = servers.ssh.sshOpts
  return s
}

function writeConfig(s: Sandbox, config: unknown): void {
  const dir = join(s.env.XDG_CONFIG_HOME!, 'hms')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config))
}

const sorted = (items: Iterable<string>) => [...items].sort()
const switchArgs = ['--flake', '.#mitsio@shoshin', '--json']
const fast = { HMS_RETRY_BASE_MS: '1' }

/** What a remote store dir holds, of `paths`. */
function inStore(dir: string, paths: string[]): Set<string> {
  const out = execFileSync('nix-store', ['--store', dir, '--check-validity', '--print-invalid', ...paths], {
    encoding: 'utf8',
    env: { ...process.env, NIX_CONFIG: 'substituters =' },
  })
  const invalid = new Set(out.split('\n').filter(Boolean))
  return new Set(paths.filter((p) => !invalid.has(p)))
}

/** Store paths whose narinfo an http cache directory holds. */
function narinfos(dir: string): Set<string> {
  if (!existsSync(dir)) return new Set()
  return new Set(
    readdirSync(dir)
      .filter((f) => f.endsWith('.narinfo'))
      .map((f) => /^StorePath: (.+)$/m.exec(readFileSync(join(dir, f), 'utf8'))![1]!),
  )
}

/** `count` tiny new paths (nix-store --add: content-addressed, so any store takes them unsigned). */
function smallPaths(s: Sandbox, count: number): string[] {
  const dir = join(s.root, 'small')
  mkdirSync(dir, { recursive: true })
  const files = Array.from({ length: count }, (_, i) => {
    const file = join(dir, `f${i}`)
    writeFileSync(file, `${s.root} ${i}\n`)
    return file
  })
  return execFileSync('nix-store', ['--add', ...files], { encoding: 'utf8', env: s.env })
    .split('\n')
    .filter(Boolean)
}

describe('ssh:// and ssh-ng:// into a second Nix store', () => {
  it('ssh://: switch, a one-package change, verify, and hms push counting what is already there', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = sandbox()
    const { url, dir } = servers.ssh.storeUrl('ssh', 'legacy')
    const env = { HMS_CACHE: url }
    const first = await s.hms(switchArgs, { env })
    expect(first.exitCode, first.stderr).toBe(0)
    // What the switch built: the generation's closure and, beside it, user-environment, env-manifest.nix, hm-news.json.
    const closure1 = s.built()
    expect(inStore(dir, closure1)).toEqual(new Set(closure1))
    expect(sorted(summaryOf(first.stdout).push.pushed.map((p) => p.path))).toEqual(sorted(closure1))

    s.setPackage('hello', '2.13')
    const edited = await s.hms(switchArgs, { env })
    expect(edited.exitCode, edited.stderr).toBe(0)
    const gen2 = s.generation()!
    const built2 = s.built()
    const fresh = built2.filter((p) => !closure1.includes(p))
    expect(sorted(summaryOf(edited.stdout).push.pushed.map((p) => p.path))).toEqual(sorted(fresh))
    // What the built paths need and the store already had is counted, not reported as 0 (hm-news.json was not
    // rebuilt, and nothing built refers to it).
    expect(summaryOf(edited.stdout).push.alreadyPresent).toBe(built2.length - 1 - fresh.length)
    expect(inStore(dir, s.closure(gen2.path)).size).toBe(s.closure(gen2.path).length)

    const verify = await s.hms(['verify', '--cache', url, '--json'])
    expect(verify.exitCode, verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, total: s.closure(gen2.path).length })

    // Everything is there already: hms says so, truly counted.
    const again = await s.hms(['push', '--cache', url, '--json', gen2.path])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(summaryOf(again.stdout).push).toMatchObject({
      pushed: [],
      failed: [],
      alreadyPresent: s.closure(gen2.path).length,
    })
  })

  it(
    'ssh-ng:// with require-sigs: an unsigned push is refused once with the fix, not retried, queued; signed, ' +
      'the queue drains',
    async (t) => {
      if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
      const s = sandbox()
      const { url, dir } = servers.ssh.storeUrl('ssh-ng', 'signed')
      const unsigned = await s.hms(['--cache', url, ...switchArgs], { env: fast })
      expect(unsigned.exitCode, unsigned.stderr).toBe(0)
      const generation = s.generation()!
      expect(unsigned.stderr.match(/lacks a valid signature/g) ?? []).toHaveLength(1)
      expect(unsigned.stderr).toContain('the destination only accepts signed paths: create a key')
      expect(unsigned.stderr).not.toMatch(/retry \d\/\d/)
      const summary = summaryOf(unsigned.stdout)
      // builtins.toFile's path is content-addressed: the store takes it unsigned, and it may land
      // before nix copy meets the first refused path (the order depends on the load).
      expect(summary.push.pushed.filter((p) => !p.path.endsWith('-hm-session-vars.sh'))).toEqual([])
      expect(summary.push.queued).toContain(generation.path)
      expect(pending(s)[0]!.reason).toMatch(/lacks a valid signature/)

      writeConfig(s, { caches: { box: { url, secretKeyFile: key.sec } } })
      const drained = await s.hms(['push', '--pending', '--json'])
      expect(drained.exitCode, drained.stderr).toBe(0)
      expect(pending(s), drained.stderr + drained.stdout).toEqual([])
      const closure = s.closure(generation.path)
      expect(inStore(dir, closure)).toEqual(new Set(closure))
      const sigs = execFileSync(
        'nix',
        ['--extra-experimental-features', 'nix-command', 'path-info', '--store', dir, '--sigs', generation.path],
        { encoding: 'utf8' },
      )
      expect(sigs).toMatch(/hms-remote-1:/)
    },
  )

  it('ssh-ng:// with a signing key: --plan shows the signing before the copy, as both then run', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = sandbox()
    const { url, dir } = servers.ssh.storeUrl('ssh-ng', 'plan-signed')
    writeConfig(s, { cache: 'box', caches: { box: { url, secretKeyFile: key.sec } } })
    const plan = await s.hms(['--plan', '--flake', '.#mitsio@shoshin'])
    expect(plan.exitCode, plan.stderr).toBe(0)
    const sign = ['nix', '--extra-experimental-features', 'nix-command', 'store', 'sign', '-r', '--key-file', key.sec]
    const rows = plan.stdout.split('\n')
    const at = (name: string) => rows.findIndex((r) => r.startsWith(`${name.padEnd(8)} `))
    expect(rows[at('sign')]).toBe(`sign     ${sign.join(' ')} <what the switch builds>`)
    expect(at('sign')).toBe(at('push') - 1)
    const planned = JSON.parse((await s.hms(['--plan', '--json', '--flake', '.#mitsio@shoshin'])).stdout)
    expect(planned.signCommand).toEqual(sign)

    // What runs: nix's argv recorded, then the real nix.
    const log = recordingCalls(s, 'nix')
    const run = await s.hms(switchArgs)
    expect(run.exitCode, run.stderr).toBe(0)
    const ran = readFileSync(log, 'utf8').split('\n')
    const signed = ran.filter((l) => l.includes(' store sign '))
    expect(signed).toHaveLength(1)
    expect(signed[0]!.split(' /nix/store/')[0]).toBe(sign.join(' '))
    expect(ran.filter((l) => l.startsWith(planned.pushCommand.join(' ')))).toHaveLength(1)
    expect(inStore(dir, [s.generation()!.path]).size).toBe(1)

    const generation = s.generation()!.path
    const pushPlan = pushPlanSchema.parse(JSON.parse((await s.hms(['push', '--plan', '--json', generation])).stdout))
    expect(pushPlan.pushes).toEqual([
      { cache: 'box', sign: [...sign, generation], command: [...planned.pushCommand, generation], paths: [generation] },
    ])
    const text = await s.hms(['push', '--plan', generation])
    expect(text.stdout.split('\n')[0]).toBe(`${sign.join(' ')} ${generation}`)
  })

  it('ssh-ng://: 150 new paths are asked about in one login per batch, and all land', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = sandbox()
    const { url, dir } = servers.ssh.storeUrl('ssh-ng', 'many')
    const paths = smallPaths(s, 150)
    const before = servers.ssh.logins()
    const run = await s.hms(['push', '--cache', url, '--json', ...paths], { env: fast })
    expect(run.exitCode, run.stderr).toBe(0)
    expect(summaryOf(run.stdout).push.pushed).toHaveLength(150)
    expect(inStore(dir, paths).size).toBe(150)
    // nix copy asks and sends in one session (Nix 2.8's path-info logs in again for every missing path).
    expect(servers.ssh.logins() - before).toBeLessThanOrEqual(2)
  })

  it('a store that cannot be opened is a refusal: said once with the fix, not retried', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = sandbox()
    const url = 'ssh-ng://root@127.0.0.1?remote-store=/proc/hms-cannot-create'
    const paths = smallPaths(s, 2)
    const run = await s.hms(['push', '--cache', url, ...paths], { env: fast })
    expect(run.exitCode).toBe(0)
    expect(run.stderr.match(/creating directory '\/proc\/hms-cannot-create'/g) ?? [], run.stderr).toHaveLength(1)
    expect(run.stderr).toContain('the remote store exists and is writable')
    expect(run.stderr).not.toMatch(/retry \d\/\d/)
    expect(
      pending(s)
        .map((e) => e.path)
        .sort(),
    ).toEqual(sorted(paths))
  })

  it('an unreachable host is said to be unreachable, quickly, and the paths are queued', async () => {
    const s = sandbox()
    s.env.NIX_SSHOPTS = '-p 9 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes'
    const url = 'ssh-ng://root@127.0.0.1'
    const paths = smallPaths(s, 3)
    const run = await s.hms(['push', '--cache', url, '--retries', '0', ...paths])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(/cannot reach ssh-ng:\/\/root@127\.0\.0\.1: .*Connection refused/)
    expect(
      pending(s)
        .map((e) => e.path)
        .sort(),
    ).toEqual(sorted(paths))
  })
})

describe('http:// with WebDAV', () => {
  it('a narinfo the server lost is uploaded again: "pushed" only when the cache has it', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = sandbox()
    const url = `${servers.http.url('open')}/lost-${sandboxes.length}`
    const dir = join(servers.http.root, `open/lost-${sandboxes.length}`)
    const run = await s.hms(['--cache', url, ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    const generation = s.generation()!
    expect(narinfos(dir)).toEqual(new Set(s.built()))
    // The user's Nix looks the generation up (its lookup cache now says "there"), then the server loses it.
    const nixCopy = (...args: string[]) =>
      execFileSync('nix', ['--extra-experimental-features', 'nix-command', ...args], { env: s.env, stdio: 'ignore' })
    nixCopy('path-info', '--store', url, generation.path)
    const lost = join(dir, `${generation.path.slice(11, 43)}.narinfo`)
    rmSync(lost)
    const verify = await s.hms(['verify', '--cache', url])
    expect(verify.exitCode).toBe(1)
    // The control: a bare nix copy trusts that lookup cache, skips the path and exits 0.
    nixCopy('copy', '--to', url, generation.path)
    expect(existsSync(lost)).toBe(false)
    const push = await s.hms(['push', '--cache', url, '--json', generation.path])
    expect(push.exitCode, push.stderr).toBe(0)
    expect(existsSync(lost)).toBe(true)
    expect(summaryOf(push.stdout).push.pushed.map((p) => p.path)).toEqual([generation.path])
    expect((await s.hms(['verify', '--cache', url])).exitCode).toBe(0)
  })

  it('a switch asks the cache about each path once, as a bare nix copy does', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = sandbox()
    const where = `once-${sandboxes.length}`
    const run = await s.hms(['--cache', `${servers.http.url('open')}/${where}`, ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    const built = s.built()
    expect(narinfos(join(servers.http.root, `open/${where}`))).toEqual(new Set(built))
    // Nix's answers within the copy's own session are used: an upload's references are not asked
    // about again (they were with `narinfo-cache-positive-ttl 0`, 3× the requests).
    const lookups = servers.http
      .requests()
      .filter((r) => new RegExp(`^(GET|HEAD) /open/${where}/\\w+\\.narinfo `).test(r))
      .map((r) => r.split(' ')[1])
    expect(lookups.length).toBe(built.length)
    expect(new Set(lookups).size).toBe(built.length)
  })

  it('hms verify follows a redirect', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = sandbox()
    const run = await s.hms(['--cache', `${servers.http.url('open')}/moved-${sandboxes.length}`, ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    const verify = await s.hms([
      'verify',
      '--cache',
      `${servers.http.url('moved')}/moved-${sandboxes.length}`,
      '--json',
    ])
    expect(verify.exitCode, verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, total: s.closure(s.generation()!.path).length })
  })

  it(
    'basic auth in the URL: pushed and verified, the password nowhere on disk, ' + 'in argv or in what hms prints',
    async (t) => {
      if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
      const s = sandbox()
      const { password } = servers.http
      const url = `${servers.http.url('auth', true)}/url-${sandboxes.length}`
      const dir = join(servers.http.root, `auth/url-${sandboxes.length}`)
      const run = await s.hms(['--cache', url, '-v', ...switchArgs])
      expect(run.exitCode, run.stderr).toBe(0)
      expect(narinfos(dir)).toEqual(new Set(s.built()))
      expect(run.stderr).toContain('nix copy: copying path')
      expect(run.stdout + run.stderr).not.toContain(password)
      const verify = await s.hms(['verify', '--cache', url])
      expect(verify.exitCode, verify.stderr).toBe(0)

      // A background push of a new generation: its argv, log and the state files hold no password.
      s.setPackage('git', '2.45')
      const seen = new Set<string>()
      const scan = setInterval(() => {
        for (const { args } of s.processes()) seen.add(args)
      }, 10)
      const bg = await s.hms(['--cache', url, '--background', ...switchArgs])
      expect(bg.exitCode, bg.stderr).toBe(0)
      const state = join(s.env.XDG_STATE_HOME!, 'hms')
      // background.pid holds `PID START BOOT-ID` (README, state files).
      const pid = Number(readFileSync(join(state, 'background.pid'), 'utf8').split(' ')[0])
      const deadline = Date.now() + 60_000
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      clearInterval(scan)
      expect(
        [...seen].some((l) => l.includes(' push --cache http://127.0.0.1:')),
        [...seen].join('\n'),
      ).toBe(true)
      // The command typed by the user is theirs; what hms starts (the detached push, nix) is checked.
      for (const line of [...seen].filter((l) => !l.includes('--background'))) expect(line).not.toContain(password)
      expect(narinfos(dir).has(s.generation()!.path)).toBe(true)
      expect(statSync(state).mode & 0o777).toBe(0o700)
      for (const name of readdirSync(state)) {
        const file = join(state, name)
        if (!statSync(file).isFile()) continue
        expect(statSync(file).mode & 0o777, name).toBe(0o600)
        expect(readFileSync(file, 'utf8'), name).not.toContain(password)
      }
      expect(readFileSync(join(state, 'background.log'), 'utf8')).toMatch(/pushed|nothing new/)
    },
  )

  it(
    'credentials typed only on the command line: the queued entry says how to supply them, ' +
      'and the push asks again',
    async (t) => {
      if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
      const s = sandbox()
      const bare = `${servers.http.url('auth')}/typed-${sandboxes.length}`
      const url = `${servers.http.url('auth', true)}/typed-${sandboxes.length}`
      await servers.http.pause()
      let down: RunResult
      try {
        down = await s.hms(['--cache', url, ...switchArgs], { env: fast })
      } finally {
        await servers.http.resume()
      }
      expect(down.exitCode, down.stderr).toBe(0)
      expect(down.stderr).toContain(`cannot reach ${bare}: connection refused`)
      const queued = pending(s)
      expect(queued.length).toBeGreaterThan(0)
      expect(queued.every((e) => e.cache === bare)).toBe(true)
      expect(queued[0]!.reason).toContain('credentials were given on the command line only')
      expect(JSON.stringify(queued)).not.toContain(servers.http.password)

      // Without them the server refuses: said once, not retried, the paths stay queued.
      const refused = await s.hms(['push', '--pending'], { env: fast })
      expect(refused.stderr.match(/HTTP 401/g) ?? []).toHaveLength(1)
      expect(refused.stderr).not.toMatch(/retry \d\/\d/)
      expect(pending(s).length).toBe(queued.length)
      // Given in the config, they are found again by the URL the queue holds.
      writeConfig(s, { caches: { work: { url } } })
      const drained = await s.hms(['push', '--pending'])
      expect(drained.exitCode, drained.stderr).toBe(0)
      expect(pending(s)).toEqual([])
      expect(narinfos(join(servers.http.root, `auth/typed-${sandboxes.length}`))).toEqual(new Set(s.built()))
    },
  )

  it(
    '12 paths pushed, retried against a down server and drained from the queue: ' + 'no listener-leak warning',
    async (t) => {
      if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
      const s = sandbox()
      const paths = smallPaths(s, 12)
      const leak = /MaxListenersExceededWarning|memory leak/
      const url = `${servers.http.url('open')}/many-${sandboxes.length}`
      const push = await s.hms(['push', '--cache', url, ...paths])
      expect(push.exitCode, push.stderr).toBe(0)
      expect(narinfos(join(servers.http.root, `open/many-${sandboxes.length}`))).toEqual(new Set(paths))
      expect(push.stderr).not.toMatch(leak)
      // Nobody listens on the port the closed server had: every lookup is refused, then retried.
      const down = `http://127.0.0.1:${await closedPort()}/many`
      const failed = await s.hms(['push', '--cache', down, '--retries', '2', ...paths], { env: fast })
      expect(failed.stderr).toMatch(/connection refused/)
      expect(failed.stderr).not.toMatch(leak)
      expect(pending(s).length).toBe(12)
      const drained = await s.hms(['push', '--pending', '--cache', down], { env: fast })
      expect(drained.stderr).not.toMatch(leak)
    },
  )

  it('basic auth from the netrc file Nix is configured with', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = sandbox()
    const netrc = join(s.root, 'netrc')
    writeFileSync(netrc, `machine 127.0.0.1 login ${AUTH_USER} password ${servers.http.password}\n`, { mode: 0o600 })
    s.env.NIX_CONFIG = `substituters =\nnetrc-file = ${netrc}\n`
    const url = `${servers.http.url('auth')}/netrc-${sandboxes.length}`
    const run = await s.hms(['--cache', url, ...switchArgs])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(narinfos(join(servers.http.root, `auth/netrc-${sandboxes.length}`))).toEqual(new Set(s.built()))
    const verify = await s.hms(['verify', '--cache', url, '--json'])
    expect(verify.exitCode, verify.stderr).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true })
  })
})

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
