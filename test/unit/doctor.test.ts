import { describe, expect, it } from 'vitest'
import { defaultOptions, type HmsOptions } from '../../src/plan/options.js'
import { defaultConfig, type Config } from '../../src/plan/config.js'
import {
  checks,
  doctorContext,
  failed,
  judgePending,
  probeLimits,
  runChecks,
  splitFlake,
  type Check,
  type CheckReport,
  type DoctorBackend,
  type ExecResult,
  type PendingRead,
  type World,
} from '../../src/doctor/checks.js'
import { HmsError } from '../../src/lib/errors.js'
import { backendFor } from '../../src/backends/for-target.js'
import type { Probe, PushBlocker } from '../../src/backends/backend.js'
import type { Target } from '../../src/plan/target.js'

const verbs = ['--version', 'show-config', 'eval', '-Gn', '-un']
const showConfig = (...trusted: string[]) =>
  JSON.stringify({ substituters: { value: [] }, 'trusted-users': { value: trusted } })
const done = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, timedOut: false })
const blocked = (reason: PushBlocker['reason'], message: string = reason): PushBlocker => ({
  reason,
  message,
  fix: 'do this',
})

/** What the cache check and the cachix line asked of the backend. */
const asked: { target: Target; question: string; arg: unknown }[] = []

/** A machine where everything hms needs is present; each test breaks one thing. */
function world(
  over: Partial<World> & {
    outputs?: Record<string, ExecResult>
    files?: Record<string, string>
    queue?: PendingRead
    /** The backend's answers; its url and kind are the real backend's (backendFor). */
    blocker?: PushBlocker
    probe?: Probe
  } = {},
): World {
  const outputs: Record<string, ExecResult> = {
    'nix --version': done('nix (Nix) 2.8.0\n'),
    'cachix --version': done('cachix 1.11.1\n'),
    'nix show-config': done(showConfig('root', '@wheel')),
    'id -Gn': done('users wheel\n'),
    'nix eval': done('["mitsio","mitsio@shoshin"]'),
    ...over.outputs,
  }
  const files = over.files ?? {}
  return {
    which: (c) => (['nix', 'cachix', 'home-manager'].includes(c) ? c : undefined),
    exec: async (file, args) =>
      outputs[`${file} ${args.find((a) => verbs.includes(a))}`] ??
      done('', 1, `no stand-in for ${file} ${args.join(' ')}`),
    backend: (target): DoctorBackend => ({
      ...backendFor(target),
      blocker: async (_env, timeoutMs) => {
        asked.push({ target, question: 'blocker', arg: timeoutMs })
        return over.blocker
      },
      probe: async (_env, limits) => {
        asked.push({ target, question: 'probe', arg: limits })
        return over.probe ?? { status: 'ok', message: 'answers' }
      },
    }),
    writable: () => false,
    readable: (path) => path in files,
    pending: async () => over.queue ?? { entries: [] },
    ...over,
  }
}

const env = { HOME: '/home/mitsio', USER: 'mitsio', CACHIX_AUTH_TOKEN: 'secret-marker' }
const config: Config = {
  ...defaultConfig,
  file: '/cfg.json',
  flake: '/ws',
  caches: { nas: { url: 'file:///mnt/nas/cache' } },
}

async function doctor(
  w: World,
  options: Partial<HmsOptions> = {},
  e: Record<string, string | undefined> = env,
  load: () => Promise<Config> = async () => config,
): Promise<Record<string, CheckReport>> {
  const ctx = await doctorContext({ options: { ...defaultOptions(), ...options }, env: e, hostname: 'shoshin' }, load)
  const reports = await runChecks(checks, ctx, w)
  return Object.fromEntries(reports.map((r) => [r.id, r]))
}

describe('doctor checks', () => {
  it('passes on a machine with everything present, in a fixed order', async () => {
    const r = await doctor(world())
    expect(Object.keys(r)).toEqual([
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
    expect(Object.values(r).filter((c) => c.status !== 'ok')).toEqual([])
    expect(r.nix!.message).toContain('2.8.0')
    expect(r.credentials!.message).toBe('Cachix credentials found in $CACHIX_AUTH_TOKEN')
    expect(r['trusted-user']!.message).toContain('@wheel in trusted-users')
    expect(r.profile!.message).toContain('shoshin (from hostname), host shoshin')
    expect(r.flake!.message).toContain('/ws#homeConfigurations."mitsio@shoshin" exists')
    expect(JSON.stringify(r)).not.toContain('secret-marker')
  })

  it.each([
    ['cachix missing', world({ blocker: blocked('cachix-missing') }), 'cachix', /do this/],
    ['cachix too old', world({ blocker: blocked('cachix-too-old') }), 'cachix', /do this/],
    [
      'home-manager missing',
      world({ which: (c) => (c === 'home-manager' ? undefined : c) }),
      'home-manager',
      /home-manager\/master/,
    ],
    ['nix missing', world({ which: (c) => (c === 'nix' ? undefined : c) }), 'nix', /install Nix/],
    [
      'flake attribute missing',
      world({ outputs: { 'nix eval': done('["mitsio@kinoite"]') } }),
      'flake',
      /add it to the flake/,
    ],
    [
      'flake broken',
      world({ outputs: { 'nix eval': done('', 1, 'error: syntax error, unexpected end of file\n') } }),
      'flake',
      /fix the flake/,
    ],
    ['cache refused', world({ probe: { status: 'fail', message: 'refused', fix: 'fix it' } }), 'cache', /fix it/],
  ])('%s: fails with its fix', async (_name, w, id, fix) => {
    const r = await doctor(w)
    expect(r[id]!.status).toBe('fail')
    expect(r[id]!.fix).toMatch(fix)
    expect(failed(Object.values(r))).toBe(true)
  })

  it('names missing credentials and the fix, never a value', async () => {
    const r = await doctor(world(), {}, { HOME: '/nonexistent', USER: 'mitsio' })
    expect(r.credentials).toMatchObject({ status: 'fail', message: 'no Cachix credentials found' })
    expect(r.credentials!.fix).toContain('cachix authtoken')
  })

  it('reports a broken config and skips what depends on it', async () => {
    const r = await doctor(world(), {}, env, async () => {
      throw new HmsError('invalid JSON in /cfg.json: Unexpected end', { hint: 'check the file with: jq . /cfg.json' })
    })
    expect(r.config).toMatchObject({
      status: 'fail',
      message: 'invalid JSON in /cfg.json: Unexpected end',
      fix: 'check the file with: jq . /cfg.json',
    })
    expect([r.profile!.status, r.flake!.status, r.cache!.status]).toEqual(['skip', 'skip', 'skip'])
    expect(r.cachix!.status).toBe('ok')
  })

  it('fails an unknown --profile with the known ones', async () => {
    const r = await doctor(world(), { profile: 'nope' })
    expect(r.profile).toMatchObject({ status: 'fail', fix: 'known profiles: shoshin, gyakusatsu, kinoite' })
  })

  it('needs neither cachix nor credentials for a store-URL cache', async () => {
    asked.length = 0
    const r = await doctor(
      world({ blocker: blocked('cachix-missing') }),
      { cache: 'nas' },
      { HOME: '/h', USER: 'mitsio' },
    )
    expect([r.cachix!.status, r.credentials!.status, r.cache!.status]).toEqual(['skip', 'ok', 'ok'])
    expect(r.cachix!.message).toBe('not needed: the cache file:///mnt/nas/cache is a Nix store URL')
    expect(r.credentials!.message).toMatch(/^Cachix credentials not needed/)
    // A store URL's backend is never asked about cachix.
    expect(asked.filter((a) => a.question === 'blocker')).toEqual([])
    expect(failed(Object.values(r))).toBe(false)
  })

  it('fails a signing key that cannot be read, with the fix (issue 11)', async () => {
    const caches = { nas: { url: 'file:///mnt/nas/cache', secretKeyFile: '~/nokey.sec' } }
    const files = { '/mnt/nas/cache/nix-cache-info': '' }
    const load = async () => ({ ...config, caches })
    const r = await doctor(world({ files }), { cache: 'nas' }, { HOME: '/h', USER: 'mitsio' }, load)
    expect(r.credentials).toMatchObject({ status: 'fail', message: 'signing key /h/nokey.sec cannot be read' })
    expect(r.credentials!.fix).toContain('nix-store --generate-binary-cache-key NAME /h/nokey.sec /h/nokey.sec.pub')
    const present = await doctor(
      world({ files: { ...files, '/h/nokey.sec': 'k' } }),
      { cache: 'nas' },
      { HOME: '/h', USER: 'mitsio' },
      load,
    )
    expect(present.credentials).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('signing with /h/nokey.sec'),
    })
  })

  it('is not a failure when offline', async () => {
    const r = await doctor(
      world({
        probe: { status: 'offline', message: 'skipped: offline, cannot resolve or reach x.cachix.org (ENOTFOUND)' },
        outputs: {
          'nix eval': done(
            '',
            1,
            "error: unable to download 'https://api.github.com/repos/a/b/commits/HEAD': " +
              "Couldn't resolve host name (6)\n",
          ),
        },
      }),
    )
    expect(r.cache!.status).toBe('skip')
    expect(r.cache!.message).toMatch(/offline/)
    expect(r.flake!.status).toBe('skip')
    expect(r.flake!.message).toMatch(/offline/)
    expect(failed(Object.values(r))).toBe(false)
  })

  it('warns, without failing, when the user is not trusted', async () => {
    const r = await doctor(world({ outputs: { 'nix show-config': done(showConfig('root')) } }))
    expect(r['trusted-user']).toMatchObject({ status: 'warn' })
    expect(r['trusted-user']!.message).toContain('falls back to watching the whole store')
    expect(r['trusted-user']!.fix).toContain('trusted-users = root mitsio')
  })

  it('counts a writable store as trusted', async () => {
    const r = await doctor(
      world({ writable: (p) => p === '/nix/store', outputs: { 'nix show-config': done(showConfig('root')) } }),
    )
    expect(r['trusted-user']!.status).toBe('ok')
  })

  it('reports the pending queue per cache', async () => {
    const r = await doctor(world({ queue: { entries: [{ cache: 'c1' }, { cache: 'c1' }, { cache: 'c2' }] } }))
    expect(r.pending).toMatchObject({
      status: 'warn',
      message: '3 paths waiting (2 for c1, 1 for c2)',
      fix: 'run hms push --pending',
    })
  })
})

describe('what doctor asks of the backend', () => {
  it.each([
    [{ status: 'ok', message: 'answers' }, 'ok'],
    [{ status: 'fail', message: 'refused', fix: 'fix it' }, 'fail'],
    [{ status: 'later', message: 'slow', fix: 'wait' }, 'warn'],
    [{ status: 'offline', message: 'offline' }, 'skip'],
  ] as [Probe, string][])('the cache line says the probe %j as %s', async (probe, status) => {
    const r = await doctor(world({ probe }))
    expect(r.cache).toMatchObject({ status, message: probe.message, ...(probe.fix ? { fix: probe.fix } : {}) })
  })

  it('asks the resolved cache with the doctor limits, and the blocker within the check time limit', async () => {
    asked.length = 0
    await doctor(world(), { cache: 'ssh-ng://builder' })
    await doctor(world())
    expect(asked).toEqual(
      expect.arrayContaining([
        { target: { kind: 'store', url: 'ssh-ng://builder' }, question: 'probe', arg: probeLimits },
        { target: { kind: 'cachix', name: 'modular-workspace' }, question: 'probe', arg: probeLimits },
        { target: { kind: 'cachix', name: 'modular-workspace' }, question: 'blocker', arg: 5_000 },
      ]),
    )
    expect(asked).toHaveLength(3)
  })

  it('says the blocker on the cachix line; a missing cachix does not hide missing credentials', async () => {
    const r = await doctor(world({ blocker: blocked('cachix-missing', 'cachix not found on PATH') }), {}, {})
    expect(r.cachix).toMatchObject({ status: 'fail', message: 'cachix not found on PATH', fix: 'do this' })
    expect(r.credentials).toMatchObject({ status: 'fail', message: 'no Cachix credentials found' })
    const unreadable = await doctor(world({ blocker: blocked('cachix-unreadable') }))
    expect(unreadable.cachix).toMatchObject({ status: 'warn', message: 'cachix-unreadable' })
    const noToken = await doctor(world({ blocker: blocked('no-credentials') }), {}, {})
    expect([noToken.cachix!.status, noToken.credentials!.status]).toEqual(['ok', 'fail'])
  })
})

describe('runner', () => {
  const ctx = { env: {}, config: { ok: true as const, value: config } }

  it('bounds each check by its timeout and keeps the order', async () => {
    const slow: Check = { id: 'slow', title: 'slow', timeoutMs: 30, run: () => new Promise(() => {}) }
    const quick: Check = { id: 'quick', title: 'quick', run: async () => ({ status: 'ok', message: 'fine' }) }
    const started = Date.now()
    const reports = await runChecks([slow, quick], ctx, world())
    expect(Date.now() - started).toBeLessThan(1000)
    expect(reports.map((r) => [r.id, r.status])).toEqual([
      ['slow', 'warn'],
      ['quick', 'ok'],
    ])
    expect(reports[0]!.message).toBe('no answer within 0.03s')
  })

  it('turns a crashing check into a failure', async () => {
    const crash: Check = {
      id: 'crash',
      title: 'crash',
      run: async () => {
        throw new Error('boom')
      },
    }
    const [report] = await runChecks([crash], ctx, world())
    expect(report).toMatchObject({ status: 'fail', message: 'check crashed: boom' })
  })
})

describe('pure helpers', () => {
  it('splits flake references', () => {
    expect(splitFlake('.#mitsio@shoshin')).toEqual({ ref: '.', attr: 'mitsio@shoshin' })
    expect(splitFlake('~/ws#"mitsio@shoshin"')).toEqual({ ref: '~/ws', attr: 'mitsio@shoshin' })
    expect(splitFlake('github:a/b')).toEqual({ ref: 'github:a/b' })
  })

  it.each([
    [{ entries: [] }, 'ok', 'no paths waiting'],
    [{ entries: [{ cache: 'c' }] }, 'warn', '1 path waiting (1 for c)'],
    [
      { entries: [], warning: 'p is damaged (1 unreadable line)' },
      'warn',
      'no paths waiting; p is damaged (1 unreadable line)',
    ],
  ] as [PendingRead, string, string][])('queue %j → %s', (read, status, message) => {
    expect(judgePending(read)).toMatchObject({ status, message })
  })
})
