// The store-URL rules (src/plan/store-url.ts) as one table: the Nix module mirrors this same table.
import { describe, expect, it } from 'vitest'
import { netrcLogin } from '../../src/backends/store/auth.js'
import { redact } from '../../src/lib/redact.js'
import { basicAuth, storeUrlProblem, withoutCredentials } from '../../src/plan/store-url.js'
import { resolveTarget } from '../../src/plan/target.js'

describe('storeUrlProblem: what Nix 2.8 can open, decided when the URL is read', () => {
  it.each([
    // accepted
    ['file:///mnt/nas/nix-cache', undefined],
    ['file:///tmp/x?compression=zstd', undefined],
    ['file:///tmp/x%20y', undefined],
    ['s3://bucket?region=eu-west-1&endpoint=minio.lan', undefined],
    ['ssh://host', undefined],
    ['ssh-ng://root@127.0.0.1?remote-store=/srv/store', undefined],
    ['ssh://builder@[::1]', undefined],
    ['http://127.0.0.1:8080', undefined],
    ['https://user:pw@cache.example.org/nix', undefined],
    // refused: Nix cannot open these, and every push would fail and be queued for ever
    ['file:///', 'names the root directory'],
    ['file://', 'is not an absolute file:// URL'],
    ['file://relcache', 'is not an absolute file:// URL'],
    ['file:///tmp/x y', 'contains a space or a character Nix does not accept in a URL'],
    ['file:///tmp/ü', 'contains a space or a character Nix does not accept in a URL'],
    ['file:///tmp/a#b', undefined],
    ['file:///tmp/a%zz', 'has a path Nix does not accept'],
    ['ssh://', 'has no host'],
    ['ssh-ng://user@', 'has no host'],
    ['ssh://:22', 'has no host'],
    ['http://', 'has no host'],
    ['https:///path', 'has no host'],
    ['http://user:pw@/cache', 'has no host'],
    ['s3://', 'has no bucket'],
    ['s3://?region=x', 'has no bucket'],
    ['/mnt/cache', 'is not a store URL'],
  ])('%s → %s', (url, message) => {
    expect(storeUrlProblem(url)?.message).toBe(message)
  })

  it('every refusal comes with a one-line hint', () => {
    for (const url of ['file:///', 'ssh://', 'http://', 's3://', 'file:///tmp/x y', 'https:///path']) {
      const problem = storeUrlProblem(url)!
      expect(problem.hint).toMatch(/\S/)
      expect(problem.hint).not.toContain('\n')
    }
    expect(storeUrlProblem('s3://')!.hint).toContain('s3://my-bucket')
    expect(storeUrlProblem('ssh-ng://')!.hint).toContain('ssh-ng://user@host')
  })

  it('is what resolveTarget applies to --cache, config and the queue', () => {
    expect(() => resolveTarget('https:///path', {}, undefined, '--cache')).toThrow(
      '"https:///path" (from --cache) has no host',
    )
    expect(() => resolveTarget('lan', { lan: { url: 's3://' } }, undefined)).toThrow(
      'caches.lan.url "s3://" has no bucket',
    )
  })
})

describe('credentials', () => {
  it.each([
    ['http://user:pw@127.0.0.1:8080/cache', 'http://127.0.0.1:8080/cache'],
    ['https://user@cache.example.org', 'https://cache.example.org'],
    ['s3://AKIAKEYID:secret@bucket?region=x', 's3://bucket?region=x'],
    ['ssh://builder:pw@box', 'ssh://builder@box'],
    ['ssh-ng://builder@box?remote-store=/a@b', 'ssh-ng://builder@box?remote-store=/a@b'],
    ['file:///tmp/a@b', 'file:///tmp/a@b'],
    ['http://127.0.0.1/x?u=a:b@c', 'http://127.0.0.1/x?u=a:b@c'],
  ])('withoutCredentials(%s) = %s', (url, bare) => {
    expect(withoutCredentials(url)).toBe(bare)
  })

  it('basicAuth decodes what the URL percent-encodes', () => {
    expect(basicAuth('http://us%40er:p%3Aw@host/c')).toEqual({ user: 'us@er', password: 'p:w' })
    expect(basicAuth('http://host/c')).toBeUndefined()
  })

  it('netrcLogin picks the machine, else default, as curl does', () => {
    const netrc =
      'machine other login a password b\nmachine 127.0.0.1\n  login hms\n  password s3cret\ndefault login anon ' +
      'password x\n'
    expect(netrcLogin(netrc, '127.0.0.1')).toEqual({ user: 'hms', password: 's3cret' })
    expect(netrcLogin(netrc, 'elsewhere')).toEqual({ user: 'anon', password: 'x' })
    expect(netrcLogin('', 'h')).toBeUndefined()
  })

  it('a URL stored without credentials gets them back from the config entry or HMS_CACHE', () => {
    const caches = { work: { url: 'http://hms:pw@127.0.0.1:81/cache' } }
    expect(resolveTarget('http://127.0.0.1:81/cache', caches, undefined)).toMatchObject({
      url: 'http://hms:pw@127.0.0.1:81/cache',
      name: 'work',
    })
    expect(
      resolveTarget('http://127.0.0.1:82/c', {}, undefined, 'the queue', ['http://a:b@127.0.0.1:82/c']),
    ).toMatchObject({ url: 'http://a:b@127.0.0.1:82/c' })
    expect(
      resolveTarget('http://127.0.0.1:82/c', {}, undefined, 'the queue', ['http://a:b@127.0.0.1:83/c']),
    ).toMatchObject({ url: 'http://127.0.0.1:82/c' })
  })
})

describe('redact', () => {
  it.each([
    ["cannot connect to 'user:SuperSecretPw123@127.0.0.1:9'", "cannot connect to 'user:***@127.0.0.1:9'"],
    ['http://hms:pw@127.0.0.1/c', 'http://hms:***@127.0.0.1/c'],
    ['s3://AKIAKEYID:SECRET@bucket?x=1', 's3://***@bucket?x=1'],
    ['s3://AKIAKEYID@bucket', 's3://***@bucket'],
    ['ssh://root@127.0.0.1?remote-store=/a', 'ssh://root@127.0.0.1?remote-store=/a'],
    ['at 12:30 user@host', 'at 12:30 user@host'],
    ['/nix/store/abc-x', '/nix/store/abc-x'],
  ])('%s', (text, masked) => {
    expect(redact(text)).toBe(masked)
  })
})
