import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { joined, pathWithout, recordingCalls, useSandboxes, withoutCachix } from './helpers/common.js'
import { SECRET_MARKER, type Sandbox } from './helpers/sandbox.js'
import { AUTH_USER, startServers, type Servers } from './helpers/servers.js'

const sandbox = useSandboxes({ cache: false })

const reportSchema = z.strictObject({
  version: z.string(),
  ok: z.boolean(),
  exitCode: z.number().int(),
  checks: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      status: z.enum(['ok', 'fail', 'warn', 'skip']),
      message: z.string(),
      fix: z.string().optional(),
    }),
  ),
})

const line = (stdout: string, title: string) =>
  stdout.split('\n').find((l) => l.slice(2).startsWith(`${title}:`)) ?? `(no ${title} line)`

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('hms doctor', () => {
  it('passes on a machine with everything present, quickly and without printing the token', async () => {
    const s = sandbox()
    const started = Date.now()
    const r = await s.hms(['doctor', '--flake', '.#mitsio@shoshin'])
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    expect(line(r.stdout, 'nix')).toMatch(/^✔ nix: +Nix 2\.\d+/)
    expect(line(r.stdout, 'home-manager')).toMatch(/^✔ .*fixtures\/bin\/home-manager/)
    expect(line(r.stdout, 'cachix')).toMatch(
      /^✔ cachix: +.*fixtures\/bin\/cachix is new enough for watch-exec \(1\.7\+\)$/,
    )
    expect(line(r.stdout, 'credentials')).toMatch(/^✔ .*found in \$CACHIX_AUTH_TOKEN/)
    expect(line(r.stdout, 'trusted user')).toMatch(/^✔ /)
    expect(line(r.stdout, 'flake')).toMatch(/^✔ .*homeConfigurations\."mitsio@shoshin" exists/)
    expect(line(r.stdout, 'cache')).toMatch(/^! cache: +skipped: offline/)
    expect(line(r.stdout, 'pending')).toMatch(/^✔ pending: +no paths waiting/)
    expect(r.stdout + r.stderr).not.toContain(SECRET_MARKER)
  })

  it.each([
    [
      'cachix missing from PATH',
      (s: Sandbox) => ({ PATH: pathWithout(s, 'cachix') }),
      'cachix',
      /^✖ cachix: +cachix not found on PATH — install it \(nix profile install nixpkgs#cachix\)/,
    ],
    [
      'no credentials',
      () => ({ CACHIX_AUTH_TOKEN: undefined }),
      'credentials',
      /^✖ credentials: +no Cachix credentials found — run `cachix authtoken <token>` or set CACHIX_AUTH_TOKEN/,
    ],
    [
      'home-manager missing from PATH',
      (s: Sandbox) => ({ PATH: pathWithout(s, 'home-manager') }),
      'home-manager',
      /^✖ home-manager: +not found on PATH — install it/,
    ],
  ])('%s: its line and fix, exit 1', async (_name, env, title, expected) => {
    const s = sandbox()
    const r = await s.hms(['doctor'], { env: env(s) })
    expect(line(r.stdout, title)).toMatch(expected)
    expect(r.stdout).toMatch(/\n1 problem found\n$/)
    expect(r.exitCode).toBe(1)
  })

  it('a broken config: its line and fix, exit 1, and what depends on it skipped', async () => {
    const s = sandbox()
    mkdirSync(join(s.env.XDG_CONFIG_HOME!, 'hms'), { recursive: true })
    writeFileSync(join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json'), '{"cahce": "x"}')
    const r = await s.hms(['doctor'])
    expect(line(r.stdout, 'config')).toMatch(
      /^✖ config: +invalid config .*config\.json: unknown key "cahce" — did you mean "cache"\?/,
    )
    expect(line(r.stdout, 'profile')).toMatch(/^! profile: +needs a valid config/)
    expect(r.exitCode).toBe(1)
  })

  it('--json: one document with every check, same exit code', async () => {
    const s = sandbox()
    const r = await s.hms(['doctor', '--json'], { env: { CACHIX_AUTH_TOKEN: undefined } })
    const report = reportSchema.parse(JSON.parse(r.stdout))
    expect(report.checks.map((c) => c.id)).toEqual([
      'nix',
      'home-manager',
      'cachix',
      'credentials',
      'trusted-user',
      'config',
      'profile',
      'flake',
      'cache',
      'pending',
    ])
    expect(report.checks.find((c) => c.id === 'credentials')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('cachix authtoken'),
    })
    expect([report.ok, report.exitCode, r.exitCode]).toEqual([false, 1, 1])
  })

  it('counts the pending queue without failing', async () => {
    const s = sandbox()
    const dir = join(s.env.XDG_STATE_HOME!, 'hms')
    mkdirSync(dir, { recursive: true })
    const entry = (n: number) =>
      JSON.stringify({
        path: `/nix/store/${'a'.repeat(32)}-p${n}`,
        cache: 'modular-workspace',
        reason: 'network',
        since: new Date().toISOString(),
      })
    writeFileSync(join(dir, 'pending.jsonl'), `${entry(1)}\n${entry(2)}\n`)
    const r = await s.hms(['doctor'])
    expect(line(r.stdout, 'pending')).toBe(
      '! pending:      2 paths waiting (2 for modular-workspace) — run hms push --pending',
    )
    expect(r.exitCode).toBe(0)
  })

  it('checks file:// and http:// caches without Cachix', async () => {
    const s = sandbox()
    const env = { PATH: pathWithout(s, 'cachix'), CACHIX_AUTH_TOKEN: undefined }
    const dir = s.cacheDir('local')
    const empty = await s.hms(['doctor', '--cache', `file://${dir}`], { env })
    expect(line(empty.stdout, 'cache')).toMatch(/^! cache: +.* is not a binary cache yet/)
    expect(line(empty.stdout, 'cachix')).toMatch(/^! cachix: +not needed/)
    expect(empty.exitCode).toBe(0)
    writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n')
    expect(line((await s.hms(['doctor', '--cache', `file://${dir}`], { env })).stdout, 'cache')).toMatch(
      /^✔ cache: +.* is a binary cache/,
    )
    const missing = await s.hms(['doctor', '--cache', `file://${dir}/nope`], { env })
    expect(line(missing.stdout, 'cache')).toMatch(/^✖ cache: +.*\/nope does not exist — create or mount it/)
    const refused = await s.hms(['doctor', '--cache', `http://127.0.0.1:${await closedPort()}`], { env })
    expect(line(refused.stdout, 'cache')).toMatch(
      joined(
        /^✖ cache: +cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused /,
        /— check the URL and that the server is up$/,
      ),
    )
    expect(refused.exitCode).toBe(1)
  })

  it('names a flake attribute that does not exist', async () => {
    const s = sandbox()
    const r = await s.hms(['doctor', '--flake', '.#mitsio@nowhere'])
    expect(line(r.stdout, 'flake')).toMatch(
      joined(
        /^✖ flake: +\. has no homeConfigurations\."mitsio@nowhere" /,
        /\(it has: mitsio, mitsio@gyakusatsu.*\) — add it to the flake/,
      ),
    )
    expect(r.exitCode).toBe(1)
  })
})

// Issue 14: the cache line asks the cache through its backend, as a push does (real sshd and nginx on loopback).
describe('hms doctor against real caches', () => {
  let servers: Servers
  beforeAll(async () => {
    servers = await startServers({ ssh: true, http: true })
  }, 60_000)
  afterAll(async () => servers?.stop())

  /** A sandbox without cachix that reaches the test sshd through NIX_SSHOPTS. */
  function remote(): Sandbox {
    const s = sandbox()
    withoutCachix(s)
    if (servers.ssh) s.env.NIX_SSHOPTS = servers.ssh.sshOpts
    return s
  }

  it.for(['ssh', 'ssh-ng'] as const)('%s:// with a store that answers: ok, exit 0', async (scheme, t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = remote()
    const { url } = servers.ssh.storeUrl(scheme, 'doctor')
    const before = servers.ssh.logins()
    const r = await s.hms(['doctor', '--cache', url])
    expect(line(r.stdout, 'cache')).toBe(`✔ cache:        ${url} answers: a Nix store`)
    expect(servers.ssh.logins() - before).toBe(1)
    expect(r.exitCode, r.stdout).toBe(0)
  })

  it('ssh-ng:// with a password in the URL: asked as user@host, the password in no argv and not printed', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = remote()
    const log = recordingCalls(s, 'nix-store')
    const { url } = servers.ssh.storeUrl('ssh-ng', 'password')
    const withPassword = url.replace('root@', 'root:SuperSecretPw@')
    const r = await s.hms(['doctor', '--cache', withPassword])
    expect(line(r.stdout, 'cache')).toBe(`✔ cache:        ${url} answers: a Nix store`)
    expect(readFileSync(log, 'utf8')).toContain(`--store ${url} --check-validity`)
    expect(readFileSync(log, 'utf8') + r.stdout + r.stderr).not.toContain('SuperSecretPw')
  })

  it.for(['ssh', 'ssh-ng'] as const)('%s:// on a closed port: fails with the fix, exit 1', async (scheme, t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = remote()
    const port = await closedPort()
    s.env.NIX_SSHOPTS = servers.ssh.sshOpts.replace(/-p \d+/, `-p ${port}`)
    const r = await s.hms(['doctor', '--cache', `${scheme}://root@127.0.0.1`])
    expect(line(r.stdout, 'cache')).toBe(
      `✖ cache:        cannot reach ${scheme}://root@127.0.0.1: ssh: connect to host 127.0.0.1 port ${port}: ` +
        'Connection refused — check the host, NIX_SSHOPTS and the network',
    )
    expect(r.exitCode).toBe(1)
  })

  it('ssh-ng:// with a key the server refuses: fails with the login fix, exit 1', async (t) => {
    if (!servers.ssh) return t.skip(`sshd did not start: ${servers.sshSkip}`)
    const s = remote()
    const key = join(s.root, 'stranger')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    s.env.NIX_SSHOPTS = servers.ssh.sshOpts.replace(/-i \S+/, `-i ${key}`)
    const { url } = servers.ssh.storeUrl('ssh-ng', 'refused')
    const r = await s.hms(['doctor', '--cache', url])
    expect(line(r.stdout, 'cache')).toMatch(
      joined(
        /^✖ cache: +cannot open ssh-ng:\/\/root@127\.0\.0\.1\S*: .*Permission denied \(publickey\)\. /,
        /— check that you can log in \(ssh key or agent, NIX_SSHOPTS\)/,
      ),
    )
    expect(r.exitCode).toBe(1)
  })

  /** An http cache behind basic auth that is a binary cache (it has nix-cache-info). */
  function authCache(name: string): string {
    const dir = join(servers.http!.root, 'auth', name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n')
    return `${servers.http!.url('auth')}/${name}`
  }

  it('http:// with basic auth in the URL: ok, and the password is in no output, --json included', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = remote()
    const { password } = servers.http
    const bare = authCache('in-url')
    const url = bare.replace('http://', `http://${AUTH_USER}:${password}@`)
    const r = await s.hms(['doctor', '--cache', url])
    expect(line(r.stdout, 'cache')).toBe(`✔ cache:        ${bare} is a binary cache`)
    expect(r.exitCode, r.stdout).toBe(0)
    const json = await s.hms(['doctor', '--json', '--cache', url])
    const report = reportSchema.parse(JSON.parse(json.stdout))
    expect(report.checks.find((c) => c.id === 'cache')).toMatchObject({ status: 'ok' })
    expect(json.exitCode).toBe(0)
    for (const run of [r, json]) expect(run.stdout + run.stderr).not.toContain(password)
  })

  it('http:// with the password in the netrc file Nix reads: ok, as a push finds it', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = remote()
    const netrc = join(s.root, 'netrc')
    writeFileSync(netrc, `machine 127.0.0.1 login ${AUTH_USER} password ${servers.http.password}\n`, { mode: 0o600 })
    const url = authCache('netrc')
    const without = await s.hms(['doctor', '--cache', url])
    expect(line(without.stdout, 'cache')).toMatch(
      /^✖ cache: .* 401 .* — the cache wants credentials: put them in the netrc/,
    )
    s.env.NIX_CONFIG = `substituters =\nnetrc-file = ${netrc}\n`
    const r = await s.hms(['doctor', '--cache', url])
    expect(line(r.stdout, 'cache')).toBe(`✔ cache:        ${url} is a binary cache`)
    expect(r.exitCode).toBe(0)
  })

  it('http:// with a wrong password: fails with the credentials fix, exit 1, the password unsaid', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = remote()
    const bare = authCache('wrong')
    const r = await s.hms(['doctor', '--cache', bare.replace('http://', `http://${AUTH_USER}:not-the-pw-42@`)])
    expect(line(r.stdout, 'cache')).toBe(
      `✖ cache:        ${bare} answered HTTP 401 (not authorised) — the cache refused the credentials hms sent ` +
        '(from the URL or the netrc file Nix reads); check user and password',
    )
    expect(r.exitCode).toBe(1)
    expect(r.stdout + r.stderr).not.toContain('not-the-pw-42')
  })

  it('http:// without nix-cache-info yet: a warning (a push writes it), exit 0; after a push, ok', async (t) => {
    if (!servers.http) return t.skip(`nginx did not start: ${servers.httpSkip}`)
    const s = remote()
    const url = `${servers.http.url('open')}/fresh-${Date.now()}`
    const r = await s.hms(['doctor', '--cache', url])
    expect(line(r.stdout, 'cache')).toBe(
      `! cache:        ${url} is not a binary cache yet (HTTP 404 for nix-cache-info) — check the URL; ` +
        'a cache that takes uploads (e.g. WebDAV) gets one with the first push',
    )
    expect(r.exitCode).toBe(0)
    const pushed = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', url])
    expect(pushed.exitCode, pushed.stderr).toBe(0)
    const after = await s.hms(['doctor', '--cache', url])
    expect(line(after.stdout, 'cache')).toBe(`✔ cache:        ${url} is a binary cache`)
  })
})
