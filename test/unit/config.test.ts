import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultConfig, parseConfig } from '../../src/plan/config.js'
import { configPath, loadConfig } from '../../src/state/config-file.js'

const file = '/home/m/.config/hms/config.json'

async function errorOf(text: string): Promise<string> {
  try {
    await parseConfig(text, file)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a config error')
}

describe('config', () => {
  it('finds the file from HMS_CONFIG, XDG_CONFIG_HOME, then HOME', () => {
    expect(configPath({ HMS_CONFIG: '/x.json', XDG_CONFIG_HOME: '/x' })).toBe('/x.json')
    expect(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/h' })).toBe('/xdg/hms/config.json')
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/hms/config.json')
  })

  it('uses the built-in defaults without a file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hms-cfg-'))
    expect(await loadConfig({ HOME: home })).toBe(defaultConfig)
    expect(Object.keys(defaultConfig.profiles)).toEqual(['shoshin', 'gyakusatsu', 'kinoite'])
    expect(defaultConfig.cache).toBe('modular-workspace')
  })

  it('reads the documented example', async () => {
    const config = await parseConfig(
      JSON.stringify({
        cache: 'modular-workspace',
        user: 'mitsio',
        flake: '~/ws',
        profiles: { shoshin: { hosts: ['shoshin'], cache: 'modular-workspace-skylake' }, kinoite: {} },
        push: { jobs: 8, compressionMethod: 'zstd', strict: false },
      }),
      file,
    )
    expect(config.profiles).toEqual({
      shoshin: { hosts: ['shoshin'], cache: 'modular-workspace-skylake' },
      kinoite: { hosts: ['kinoite'], cache: undefined },
    })
    expect(config.push).toMatchObject({
      jobs: 8,
      compressionMethod: 'zstd',
      strict: false,
      autoRetry: true,
      retries: 2,
    })
    expect(config.file).toBe(file)
  })

  it.each([
    ['{"cache": ', /invalid JSON in \/home\/m\/.config\/hms\/config.json/],
    ['', /invalid JSON/],
    ['[]', /top level: /],
    ['{"cache": 3}', /cache: .*expected string/],
    ['{"profiles": {"shoshin": {"cache": 1}}}', /profiles\.shoshin\.cache: /],
    ['{"profiles": {"shoshin": {"hosts": "shoshin"}}}', /profiles\.shoshin\.hosts: /],
    ['{"push": {"jobs": -1}}', /push\.jobs: /],
    ['{"push": {"compressionMethod": "gzip"}}', /push\.compressionMethod: /],
    ['{"cahce": "x"}', /unknown key "cahce"/],
    ['{"push": {"job": 1}}', /unknown key "push\.job"/],
  ])('rejects %s naming file and field', async (text, message) => {
    const error = await errorOf(text)
    expect(error).toMatch(message)
    expect(error).toContain(file)
    expect(error.split('\n')).toHaveLength(1)
  })

  it('reports a directory or a missing HMS_CONFIG file clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-cfg-'))
    mkdirSync(join(dir, 'hms', 'config.json'), { recursive: true })
    await expect(loadConfig({ XDG_CONFIG_HOME: dir })).rejects.toThrow(/it is a directory/)
    await expect(loadConfig({ HMS_CONFIG: join(dir, 'nope.json') })).rejects.toThrow(/no such file/)
    writeFileSync(join(dir, 'ok.json'), '{}')
    expect((await loadConfig({ HMS_CONFIG: join(dir, 'ok.json') })).cache).toBe('modular-workspace')
  })
})

describe('validated-config cache', () => {
  it('remembers a valid config and still catches any change to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-cfg-'))
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') }
    mkdirSync(join(dir, 'config', 'hms'), { recursive: true })
    const file = join(dir, 'config', 'hms', 'config.json')
    writeFileSync(file, JSON.stringify({ cache: 'first', profiles: { a: {} } }))
    expect((await loadConfig(env)).cache).toBe('first')
    expect(readFileSync(join(dir, 'cache', 'hms', 'config-validated'), 'utf8')).toMatch(/^[0-9a-f]{14}$/)
    expect(await loadConfig(env)).toMatchObject({ cache: 'first', profiles: { a: { hosts: ['a'] } }, file })
    writeFileSync(file, JSON.stringify({ cache: 'first', profiles: { a: { cache: 7 } } }))
    await expect(loadConfig(env)).rejects.toThrow(/profiles\.a\.cache/)
  })
})

describe('push.exclude', () => {
  it('a pattern that is no regular expression is a config error naming file and field', async () => {
    await expect(parseConfig('{"push": {"exclude": ["-source$", "(unclosed"]}}', file)).rejects.toThrow(
      /invalid config \/home\/m\/.config\/hms\/config.json: push\.exclude\.1: not a valid regular expression/,
    )
  })

  it('store URLs are checked when the file is read, not when a push to them fails', async () => {
    await expect(parseConfig('{"caches": {"lan": {"url": "https:///nix"}}}', file)).rejects.toThrow(
      'invalid config /home/m/.config/hms/config.json: caches.lan.url "https:///nix" has no host',
    )
    // The message names the URL without its credentials.
    await expect(parseConfig('{"profiles": {"a": {"cache": "s3://k:secret@"}}}', file)).rejects.toThrow(
      'profiles.a.cache "s3://" has no bucket',
    )
  })
})

describe('unknown keys', () => {
  it.each([
    ['{"cahce": "x"}', 'cache'],
    ['{"push": {"retires": 1}}', 'retries'],
    ['{"profiles": {"a": {"host": ["a"]}}}', 'hosts'],
  ])('%s suggests "%s"', async (text, guess) => {
    await expect(parseConfig(text, file)).rejects.toMatchObject({ hint: `did you mean "${guess}"?` })
  })
})
