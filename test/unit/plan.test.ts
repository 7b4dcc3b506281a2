import { describe, expect, it } from 'vitest'
import { defaultOptions, type HmsOptions } from '../../src/plan/options.js'
import { defaultConfig, type Config } from '../../src/plan/config.js'
import { hostOfFlake, makePlan } from '../../src/plan/plan.js'

const config: Config = {
  ...defaultConfig,
  file: '/cfg.json',
  cache: 'top',
  profiles: {
    shoshin: { hosts: ['shoshin'], cache: 'skylake' },
    gyakusatsu: { hosts: ['gyakusatsu', 'gyak'] },
    kinoite: { hosts: ['kinoite'], cache: 'kin' },
  },
}

function plan(
  options: Partial<HmsOptions>,
  env: Record<string, string> = {},
  hostname = 'shoshin.local',
  cfg: Config = config,
  passthrough: string[] = [],
) {
  return makePlan({
    options: { ...defaultOptions(), ...options },
    passthrough,
    config: cfg,
    env: { USER: 'mitsio', HOME: '/home/mitsio', ...env },
    hostname,
  })
}

describe('profile precedence: --profile > HMS_PROFILE > flake attribute > hostname', () => {
  it.each([
    [{ profile: 'kinoite', flake: '.#mitsio@gyakusatsu' }, { HMS_PROFILE: 'shoshin' }, 'kinoite', '--profile'],
    [{ flake: '.#mitsio@gyakusatsu' }, { HMS_PROFILE: 'kinoite' }, 'kinoite', 'HMS_PROFILE'],
    [{ flake: '.#mitsio@gyak' }, {}, 'gyakusatsu', 'flake attribute'],
    [{}, {}, 'shoshin', 'hostname'],
  ])('%j with %j → %s', (options, env, profile, source) => {
    const p = plan(options, env)
    expect(p.profile).toBe(profile)
    expect(p.sources.profile).toBe(source)
  })

  it('rejects an unknown profile and lists the known ones', () => {
    expect(() => plan({ profile: 'nope' })).toThrow(/unknown profile "nope"/)
    expect(() => plan({ profile: 'nope' })).toThrow(
      expect.objectContaining({ hint: 'known profiles: shoshin, gyakusatsu, kinoite' }),
    )
    expect(() => plan({}, { HMS_PROFILE: 'nope' })).toThrow(/from HMS_PROFILE/)
  })

  it('uses the top-level cache, with a note, for a host no profile claims', () => {
    const p = plan({}, {}, 'laptop')
    expect(p.profile).toBeUndefined()
    expect(p.host).toBe('laptop')
    expect(p.cache).toBe('top')
    expect(p.notes).toEqual(['host laptop is in no profile; using the top-level cache'])
  })

  it.each([
    [{}, {}, true],
    [{ cache: 'file:///x' }, {}, false],
    [{}, { HMS_CACHE: 'file:///x' }, false],
    [{ push: false }, {}, false],
  ])('a host no profile claims, %j with %j: the top-level note is %s', (options, env, noted) => {
    const p = plan(options, env, 'vm')
    expect(p.notes.includes('host vm is in no profile; using the top-level cache')).toBe(noted)
  })
})

describe('cache precedence: --cache > HMS_CACHE > profile > config', () => {
  it.each([
    [{ cache: 'flag' }, { HMS_CACHE: 'env' }, 'flag', '--cache'],
    [{}, { HMS_CACHE: 'env' }, 'env', 'HMS_CACHE'],
    [{}, {}, 'skylake', 'profile'],
    [{ profile: 'gyakusatsu' }, {}, 'top', 'config'],
  ])('%j with %j → %s', (options, env, cache, source) => {
    const p = plan(options, env)
    expect(p.cache).toBe(cache)
    expect(p.sources.cache).toBe(source)
  })

  it('says "default" when there is no config file', () => {
    expect(plan({}, {}, 'kinoite', defaultConfig).sources.cache).toBe('default')
    expect(plan({}, {}, 'kinoite', defaultConfig).cache).toBe('modular-workspace')
  })
})

describe('flake and command', () => {
  it('builds the flake attribute from config when no --flake is given', () => {
    const p = plan({ profile: 'gyakusatsu' }, {}, 'shoshin', { ...config, flake: '~/ws', user: 'mitsio' })
    expect(p.flake).toBe('/home/mitsio/ws#mitsio@gyakusatsu')
    expect(p.homeManager).toEqual(['home-manager', 'switch', '--flake', '/home/mitsio/ws#mitsio@gyakusatsu'])
  })

  it(
    'passes a configured flake as given when the profile claims this machine: ' + 'home-manager picks the attribute',
    () => {
      expect(plan({ profile: 'gyakusatsu' }, {}, 'gyak', { ...config, flake: '/ws' }).flake).toBe('/ws')
      expect(plan({}, {}, 'vm', { ...config, flake: '/ws', user: 'mitsio' }).homeManager).toEqual([
        'home-manager',
        'switch',
        '--flake',
        '/ws',
      ])
    },
  )

  it('names the attribute only when home-manager would choose another one', () => {
    // config user other than $USER: home-manager would look for root@…
    expect(plan({}, { USER: 'root' }, 'shoshin', { ...config, flake: '/ws', user: 'mitsio' }).flake).toBe(
      '/ws#mitsio@shoshin',
    )
    // a configured flake that names its attribute is used as it is
    expect(plan({}, {}, 'shoshin', { ...config, flake: '/ws#mitsio@kinoite' }).flake).toBe('/ws#mitsio@kinoite')
    expect(plan({}, {}, 'shoshin', { ...config, flake: '/ws#mitsio@kinoite' }).profile).toBe('kinoite')
  })

  it('leaves the flake to home-manager when neither flag nor config gives one', () => {
    const p = plan({})
    expect(p.flake).toBeUndefined()
    expect(p.homeManager).toEqual(['home-manager', 'switch'])
  })

  it('wraps home-manager in cachix watch-exec with push options, pass-through after', () => {
    const p = plan({ flake: '.#mitsio@kinoite', pushJobs: 8, compressionMethod: 'xz' }, {}, 'x', config, [
      '-b',
      'bak',
      '-v',
    ])
    expect(p.command).toEqual([
      'cachix',
      'watch-exec',
      '--jobs',
      '8',
      '--compression-method',
      'xz',
      'kin',
      '--',
      'home-manager',
      'switch',
      '--flake',
      '.#mitsio@kinoite',
      '-b',
      'bak',
      '-v',
    ])
  })

  it('takes push settings from config when no flag is given', () => {
    const p = plan({}, {}, 'shoshin', {
      ...config,
      push: { ...config.push, jobs: 3, compressionMethod: 'zstd', strict: true },
    })
    expect(p.command.slice(0, 6)).toEqual(['cachix', 'watch-exec', '--jobs', '3', '--compression-method', 'zstd'])
    expect(p.strict).toBe(true)
  })

  it('runs plain home-manager with --no-push', () => {
    const p = plan({ push: false })
    expect(p.command).toEqual(['home-manager', 'switch'])
    expect(p.cache).toBeUndefined()
  })

  it.each([
    ['.#mitsio@shoshin', 'shoshin'],
    ['~/ws#mitsio@gyakusatsu', 'gyakusatsu'],
    ['.#"mitsio@kinoite"', 'kinoite'],
    ['.', undefined],
    ['.#mitsio', undefined],
    [undefined, undefined],
  ])('host of flake %s is %s', (flake, host) => {
    expect(hostOfFlake(flake)).toBe(host)
  })
})

describe('cache precedence holds for store URLs (issue 4)', () => {
  const withCaches: Config = {
    ...config,
    caches: { nas: { url: 'file:///mnt/nas/nix-cache' } },
    profiles: { ...config.profiles, kinoite: { hosts: ['kinoite'], cache: 'nas' } },
  }
  it.each([
    [{ cache: 'file:///flag' }, { HMS_CACHE: 's3://env' }, 'file:///flag', { kind: 'store', url: 'file:///flag' }],
    [{}, { HMS_CACHE: 's3://env' }, 's3://env', { kind: 'store', url: 's3://env' }],
    [{ profile: 'kinoite' }, {}, 'nas', { kind: 'store', url: 'file:///mnt/nas/nix-cache', name: 'nas' }],
    [{ profile: 'shoshin' }, {}, 'skylake', { kind: 'cachix', name: 'skylake' }],
  ])('%j with %j → %s', (options, env, cache, target) => {
    const p = plan(options, env, 'shoshin', withCaches)
    expect(p.cache).toBe(cache)
    expect(p.target).toEqual(target)
    expect(p.command[0]).toBe(target.kind === 'store' ? 'home-manager' : 'cachix')
  })
})

describe('attribute and host resolution, as home-manager resolves them', () => {
  it.each([
    // [flake, hostname, profile, host, host source]
    ['.#mitsio@shoshin', 'vm', 'shoshin', 'shoshin', 'flake attribute'],
    ['.#shoshin', 'vm', 'shoshin', 'shoshin', 'flake attribute'],
    ['.#"kinoite"', 'vm', 'kinoite', 'kinoite', 'flake attribute'],
    ['.#mitsio@shoshin.lan', 'vm', 'shoshin', 'shoshin.lan', 'flake attribute'],
    ['.#mitsio@SHOSHIN', 'vm', 'shoshin', 'SHOSHIN', 'flake attribute'],
    ['.#mitsio@laptop', 'shoshin', undefined, 'laptop', 'flake attribute'],
    // a bare attribute no profile claims is a user name: the host name decides
    ['.#mitsio', 'kinoite.lan', 'kinoite', 'kinoite', 'hostname'],
    // no attribute: home-manager chooses; the profile comes from the host name
    ['.', 'Shoshin.fritz.box', 'shoshin', 'Shoshin', 'hostname'],
    [undefined, 'GYAK', 'gyakusatsu', 'GYAK', 'hostname'],
    [undefined, 'laptop', undefined, 'laptop', 'hostname'],
  ])('--flake %s on %s → profile %s, host %s (%s)', (flake, hostname, profile, host, source) => {
    const p = plan(flake === undefined ? {} : { flake }, {}, hostname)
    expect(p.profile).toBe(profile)
    expect(p.host).toBe(host)
    expect(p.sources.host).toBe(source)
    expect(p.flake).toBe(flake)
  })

  it('prefers an exact claim to a short-form one', () => {
    const cfg: Config = { ...config, profiles: { lan: { hosts: ['kinoite.lan'] }, plain: { hosts: ['kinoite'] } } }
    expect(plan({}, {}, 'kinoite.lan', cfg).profile).toBe('lan')
    expect(plan({}, {}, 'kinoite', cfg).profile).toBe('plain')
  })

  it('refuses two profiles claiming one host, naming both', () => {
    const cfg: Config = {
      ...config,
      profiles: { shoshin: { hosts: ['shoshin'] }, skylake: { hosts: ['Shoshin'], cache: 's' } },
    }
    expect(() => plan({}, {}, 'shoshin', cfg)).toThrow(
      /host shoshin is claimed by profiles shoshin and skylake in \/cfg.json/,
    )
    expect(() => plan({ flake: '.#mitsio@shoshin' }, {}, 'vm', cfg)).toThrow(/claimed by profiles shoshin and skylake/)
    expect(plan({ profile: 'skylake', flake: '.#x@y' }, {}, 'vm', cfg).profile).toBe('skylake')
  })
})

it('a named profile needs no claim: an ambiguous host is then no error', () => {
  const cfg: Config = { ...config, profiles: { shoshin: { hosts: ['shoshin'] }, skylake: { hosts: ['shoshin'] } } }
  expect(plan({ profile: 'skylake' }, {}, 'shoshin', cfg).profile).toBe('skylake')
  expect(plan({ profile: 'shoshin', flake: '.#mitsio@shoshin' }, {}, 'vm', cfg).profile).toBe('shoshin')
})
