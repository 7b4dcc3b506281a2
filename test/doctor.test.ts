import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { joined, useSandboxes } from './helpers/common.js'
import { FIXTURES_BIN, SECRET_MARKER, type Sandbox } from './helpers/sandbox.js'

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

function pathWithout(s: Sandbox, missing: string): string {
  const bin = join(s.root, `bin-without-${missing}`)
  mkdirSync(bin, { recursive: true })
  for (const name of readdirSync(FIXTURES_BIN))
    if (name !== missing) symlinkSync(join(FIXTURES_BIN, name), join(bin, name))
  return s.env
    .PATH!.split(':')
    .map((d) => (d === FIXTURES_BIN ? bin : d))
    .join(':')
}

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
    expect(line(r.stdout, 'cachix')).toMatch(/^✔ cachix: +cachix 1\.11\.1/)
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
      /^✖ cachix: +not found on PATH — install it \(nix profile install nixpkgs#cachix\)/,
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
    expect(line(refused.stdout, 'cache')).toMatch(/^✖ cache: +cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/)
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
