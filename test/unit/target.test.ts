import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/plan/options.js'
import { defaultConfig, type Config } from '../../src/plan/config.js'
import { HmsError } from '../../src/lib/errors.js'
import { makePlan } from '../../src/plan/plan.js'
import { excludedPaths, fixFor } from '../../src/backends/store/pusher.js'
import { trustedUsersOf, trustingEntry } from '../../src/switch/trust.js'
import { compileExclude, copyUrl, resolveTarget, storeHash, storeName } from '../../src/plan/target.js'
import { joined } from '../helpers/common.js'

const caches = {
  nas: { url: 'file:///mnt/nas/nix-cache', secretKeyFile: '~/.config/nix/key.sec' },
  box: { url: 'ssh-ng://builder@box' },
  work: { url: 'https://work.cachix.org' },
  bad: { url: 'ftp://example.org/cache' },
  bare: { url: '/mnt/cache' },
}

function errorOf(fn: () => unknown): HmsError {
  try {
    fn()
  } catch (error) {
    if (error instanceof HmsError) return error
    throw error
  }
  throw new Error('expected an HmsError')
}

describe('resolveTarget: cache reference → target', () => {
  it.each([
    ['modular-workspace', { kind: 'cachix', name: 'modular-workspace' }],
    ['my-cache-2', { kind: 'cachix', name: 'my-cache-2' }],
    ['file:///tmp/x', { kind: 'store', url: 'file:///tmp/x' }],
    [
      's3://bucket?region=eu-west-1&endpoint=minio.lan',
      { kind: 's3', url: 's3://bucket?region=eu-west-1&endpoint=minio.lan' },
    ],
    ['ssh://host', { kind: 'store', url: 'ssh://host' }],
    ['ssh-ng://user@host', { kind: 'store', url: 'ssh-ng://user@host' }],
    ['http://127.0.0.1:8080', { kind: 'store', url: 'http://127.0.0.1:8080' }],
    ['https://cache.example.org/nix', { kind: 'store', url: 'https://cache.example.org/nix' }],
    ['HTTPS://cache.example.org', { kind: 'store', url: 'HTTPS://cache.example.org' }],
    ['https://mine.cachix.org', { kind: 'cachix', name: 'mine' }],
    ['https://mine.cachix.org/', { kind: 'cachix', name: 'mine' }],
    [
      'nas',
      {
        kind: 'store',
        url: 'file:///mnt/nas/nix-cache',
        name: 'nas',
        secretKeyFile: '/home/mitsio/.config/nix/key.sec',
      },
    ],
    ['box', { kind: 'store', url: 'ssh-ng://builder@box', name: 'box' }],
    ['work', { kind: 'cachix', name: 'work' }],
  ])('%s', (ref, expected) => {
    const target = resolveTarget(ref, caches, '/home/mitsio', '--cache')
    expect(target).toEqual(expected.kind === 's3' ? { ...expected, kind: 'store' } : expected)
  })

  it('gives a URL typed out in full the key of the configured cache with that URL', () => {
    expect(resolveTarget('file:///mnt/nas/nix-cache/', caches, '/h')).toEqual({
      kind: 'store',
      url: 'file:///mnt/nas/nix-cache/',
      name: 'nas',
      secretKeyFile: '/h/.config/nix/key.sec',
    })
  })

  it('prefers a configured cache over the Cachix cache of the same name', () => {
    expect(resolveTarget('nas', caches, '/h').kind).toBe('store')
  })

  it.each([
    [
      'gopher://x',
      /unsupported scheme "gopher:\/\/"/,
      /file:\/\/, s3:\/\/, ssh:\/\/, ssh-ng:\/\/, http:\/\/, https:\/\//,
    ],
    ['bad', /caches\.bad\.url "ftp:\/\/example.org\/cache" has an unsupported scheme "ftp:\/\/"/, /Cachix/],
    ['bare', /caches\.bare\.url "\/mnt\/cache" is not a store URL/, /file:\/\/\/mnt\/nas/],
    [
      'My_Cache',
      /cache "My_Cache" \(from --cache\) is neither a Cachix cache name nor one of the caches in config/,
      /configured caches: nas, box, work, bad, bare/,
    ],
    ['/mnt/nas/cache', /neither a Cachix cache name/, /a directory cache is a URL: file:\/\/\/mnt\/nas\/cache/],
  ])('rejects %s with exit 2 and a hint', (ref, message, hint) => {
    const error = errorOf(() => resolveTarget(ref, caches, '/h', '--cache'))
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(message)
    expect(error.hint).toMatch(hint)
  })

  it('explains Cachix names when no caches are configured', () => {
    expect(errorOf(() => resolveTarget('UPPER', {}, '/h')).hint).toMatch(/lowercase letters, digits and dashes/)
  })
})

describe('copyUrl: what nix copy writes to', () => {
  it.each([
    [{ url: 'file:///c' }, undefined, 'file:///c'],
    [{ url: 'file:///c', secretKeyFile: '/k.sec' }, undefined, 'file:///c?secret-key=/k.sec'],
    [{ url: 'file:///c', secretKeyFile: '/k.sec' }, 'zstd', 'file:///c?secret-key=/k.sec&compression=zstd'],
    [{ url: 's3://b?region=x', secretKeyFile: '/k' }, undefined, 's3://b?region=x&secret-key=/k'],
    [{ url: 'file:///c?compression=xz' }, 'zstd', 'file:///c?compression=xz'],
    [{ url: 'file:///c?secret-key=/mine', secretKeyFile: '/k' }, undefined, 'file:///c?secret-key=/mine'],
    // ssh stores keep the signatures sent with a path: hms signs locally before copying.
    [{ url: 'ssh-ng://box', secretKeyFile: '/k' }, 'zstd', 'ssh-ng://box'],
  ] as const)('%j %s → %s', (target, compression, url) => {
    expect(copyUrl({ kind: 'store', ...target }, compression)).toBe(url)
  })
})

describe('push.exclude', () => {
  const a = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo-source'
  const b = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-foo-1.0'
  const c = '/nix/store/cccccccccccccccccccccccccccccccc-bar-1.0'
  const d = '/nix/store/dddddddddddddddddddddddddddddddd-env'
  const infos = new Map([
    [a, { references: [] }],
    [b, { references: [a, b] }],
    [c, { references: [c] }],
    [d, { references: [b, c] }],
  ])

  it('names and hashes of store paths', () => {
    expect(storeName(b)).toBe('foo-1.0')
    expect(storeHash(b)).toBe('b'.repeat(32))
  })

  it('leaves out matching paths and everything that needs them, nothing else', () => {
    expect([...excludedPaths([a, b, c, d], infos, compileExclude(['-source$']))].sort()).toEqual([a, b, d])
    expect([...excludedPaths([a, b, c, d], infos, compileExclude(['^bar-']))].sort()).toEqual([c, d])
    expect(excludedPaths([a, b, c, d], infos, compileExclude([])).size).toBe(0)
  })

  it('does not hold back a path whose excluded reference the cache already has', () => {
    expect([...excludedPaths([b, c, d], infos, compileExclude(['-source$']))]).toEqual([])
  })

  it('remembers what an earlier batch of the same run left out', () => {
    expect([...excludedPaths([d], infos, [], new Set([b]))]).toEqual([d])
  })

  it('rejects an invalid pattern before anything runs, naming it', () => {
    const error = errorOf(() => compileExclude(['ok$', '(unclosed']))
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(/^push\.exclude\[1\] is not a valid regular expression/)
  })
})

describe('plan for a store URL', () => {
  const config: Config = {
    ...defaultConfig,
    file: '/cfg.json',
    cache: 'top',
    caches,
    profiles: { shoshin: { hosts: ['shoshin'], cache: 'nas' } },
  }
  const plan = (
    options: Partial<ReturnType<typeof defaultOptions>>,
    cfg: Config = config,
    env: Record<string, string> = {},
  ) =>
    makePlan({
      options: { ...defaultOptions(), ...options },
      passthrough: ['-b', 'bak'],
      config: cfg,
      env: { USER: 'mitsio', HOME: '/home/mitsio', ...env },
      hostname: 'shoshin',
    })

  it('runs home-manager alone and shows the push as nix copy, key and compression in the URL', () => {
    const p = plan({ compressionMethod: 'zstd' })
    expect(p.target).toEqual({
      kind: 'store',
      url: 'file:///mnt/nas/nix-cache',
      name: 'nas',
      secretKeyFile: '/home/mitsio/.config/nix/key.sec',
    })
    expect(p.cache).toBe('nas')
    expect(p.command).toEqual(['home-manager', 'switch', '-b', 'bak'])
    expect(p.pushCommand).toEqual([
      'nix',
      '--extra-experimental-features',
      'nix-command',
      'copy',
      '--to',
      'file:///mnt/nas/nix-cache?secret-key=/home/mitsio/.config/nix/key.sec&compression=zstd',
    ])
  })

  it('takes a store URL from --cache and HMS_CACHE like a name', () => {
    expect(plan({ cache: 'file:///tmp/x' }).target).toEqual({ kind: 'store', url: 'file:///tmp/x' })
    expect(plan({}, config, { HMS_CACHE: 'http://127.0.0.1:9' }).target).toEqual({
      kind: 'store',
      url: 'http://127.0.0.1:9',
    })
  })

  it('keeps cachix watch-exec for a Cachix name, and a cachix.org URL means that name', () => {
    expect(plan({ cache: 'https://work.cachix.org' }).command.slice(0, 3)).toEqual(['cachix', 'watch-exec', 'work'])
    expect(plan({ cache: 'https://work.cachix.org' }).cache).toBe('work')
    expect(plan({ cache: 'top' }).pushCommand).toBeUndefined()
  })

  it('notes that push.exclude does not apply to Cachix, and validates it for both', () => {
    const withExclude = { ...config, push: { ...config.push, exclude: ['-source$'] } }
    expect(plan({ cache: 'top' }, withExclude).notes).toContain(
      'push.exclude applies to store-URL caches only: cachix pushes whole closures',
    )
    expect(plan({}, withExclude).notes).toEqual([])
    expect(plan({}, withExclude).exclude).toEqual(['-source$'])
    expect(() => plan({}, { ...config, push: { ...config.push, exclude: ['['] } })).toThrow(/push\.exclude\[0\]/)
  })

  it('resolves nothing without a push, so a bad cache does not block --no-push', () => {
    const p = plan({ push: false, cache: 'gopher://x' })
    expect(p.target).toBeUndefined()
    expect(p.command).toEqual(['home-manager', 'switch', '-b', 'bak'])
  })

  it('rejects an unknown scheme in --cache before anything runs', () => {
    expect(() => plan({ cache: 'gopher://x' })).toThrow(/unsupported scheme/)
  })
})

describe('trust and signatures', () => {
  it.each([
    ['mitsio', [], ['root'], undefined],
    ['mitsio', [], ['root', 'mitsio'], 'mitsio'],
    ['mitsio', ['users', 'wheel'], ['root', '@wheel'], '@wheel'],
    ['mitsio', ['users'], ['root', '@wheel'], undefined],
    ['mitsio', [], ['*'], '*'],
    ['root', [], [], undefined],
  ])('%s in %j with trusted-users %j → %s', (user, groups, trusted, expected) => {
    expect(trustingEntry(trusted, user, groups)).toBe(expected)
  })

  it('reads trusted-users from nix show-config --json', () => {
    expect(trustedUsersOf(JSON.stringify({ 'trusted-users': { value: ['root', '@wheel'] } }))).toEqual([
      'root',
      '@wheel',
    ])
    expect(trustedUsersOf('trusted-users = root')).toBeUndefined()
    expect(trustedUsersOf('{}')).toBeUndefined()
  })

  it('explains an unsigned push to a store that wants signatures', () => {
    const reason =
      "cannot add path '/nix/store/dx405ks3v0ilbyig11527qy6z59y9jjz-dep' because it lacks a valid signature"
    expect(fixFor(reason, { target: { kind: 'store', url: 'ssh-ng://box', name: 'box' }, label: 'box' })).toMatch(
      joined(
        /only accepts signed paths: create a key \(nix-store --generate-binary-cache-key /,
        /.*"box": \{ "url": "ssh-ng:\/\/box", "secretKeyFile"/,
      ),
    )
    expect(
      fixFor(reason, { target: { kind: 'store', url: 'ssh-ng://box', secretKeyFile: '/k.sec' }, label: 'box' }),
    ).toMatch(/does not trust the key in \/k\.sec/)
    expect(
      fixFor('connection refused', { target: { kind: 'store', url: 'ssh-ng://box' }, label: 'box' }),
    ).toBeUndefined()
  })
})

describe('file:// needs an absolute path', () => {
  it('refuses file://relcache with the fix', () => {
    expect(() => resolveTarget('file://relcache', {}, '/home/m')).toThrow(/not an absolute file:\/\/ URL/)
    expect(resolveTarget('file:///abs/cache', {}, '/home/m')).toMatchObject({ kind: 'store', url: 'file:///abs/cache' })
  })
})
