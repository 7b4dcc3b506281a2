import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/main.js'
import type { Io } from '../../src/commands/command.js'
import { parseConfig } from '../../src/plan/config.js'
import { initConfig, parseProfileSpec, proposals } from '../../src/plan/init.js'
import { textSink } from '../helpers/sink.js'

const machine = { hostname: 'shoshin.lan', cwd: '/home/mitsio/ws' }

describe('parseProfileSpec', () => {
  it.each([
    ['shoshin', ['shoshin', { hosts: ['shoshin'] }]],
    ['shoshin=shoshin', ['shoshin', { hosts: ['shoshin'] }]],
    ['desk=shoshin,gyak', ['desk', { hosts: ['shoshin', 'gyak'] }]],
    ['desk=shoshin:my-cache', ['desk', { hosts: ['shoshin'], cache: 'my-cache' }]],
    ['nas=box:file:///mnt/nas/cache', ['nas', { hosts: ['box'], cache: 'file:///mnt/nas/cache' }]],
    ['kinoite:kin-cache', ['kinoite', { hosts: ['kinoite'], cache: 'kin-cache' }]],
  ])('%s', (spec, expected) => {
    expect(parseProfileSpec(spec)).toEqual(expected)
  })

  it.each(['', '=host', 'name=', 'name=a,,b', 'name=a:'])('rejects %j with the expected form', (spec) => {
    expect(() => parseProfileSpec(spec)).toThrow(/bad --profile/)
  })
})

describe('initConfig', () => {
  it('turns flags into a config that the loader accepts', async () => {
    const config = initConfig(
      { cache: 'top', flake: '~/ws', user: 'mitsio', profileSpecs: ['shoshin=shoshin:skylake', 'kinoite'] },
      machine,
    )
    expect(config).toEqual({
      cache: 'top',
      user: 'mitsio',
      flake: '~/ws',
      profiles: { shoshin: { hosts: ['shoshin'], cache: 'skylake' }, kinoite: { hosts: ['kinoite'] } },
    })
    const loaded = await parseConfig(JSON.stringify(config), '/c.json')
    expect(loaded.profiles.shoshin).toEqual({ hosts: ['shoshin'], cache: 'skylake' })
  })

  it('gives this host a profile when none is given', () => {
    expect(initConfig({ cache: 'c', profileSpecs: [] }, machine).profiles).toEqual({ shoshin: { hosts: ['shoshin'] } })
  })

  it.each([
    ['.', '/home/mitsio/ws'],
    ['./sub', '/home/mitsio/ws/sub'],
    ['../x', '/home/mitsio/x'],
    ['~/ws', '~/ws'],
    ['github:me/home', 'github:me/home'],
  ])('stores flake %s as %s', (flake, stored) => {
    expect(initConfig({ cache: 'c', flake, profileSpecs: [] }, machine).flake).toBe(stored)
  })

  it.each([
    [{ profileSpecs: [] }, /needs a cache/],
    [{ cache: 'c', flake: '.#mitsio@shoshin', profileSpecs: [] }, /has an attribute/],
    [{ cache: 'c', profileSpecs: ['a', 'a=b'] }, /profile "a" is given twice/],
    [{ cache: 'http://', profileSpecs: [] }, /"http:\/\/" \(from hms init\) has no host/],
    [{ cache: 'c', profileSpecs: ['nas=box:file:///'] }, /names the root directory/],
  ])('refuses %j', (values, message) => {
    expect(() => initConfig(values, machine)).toThrow(message)
  })

  it('proposes values from the machine', () => {
    expect(proposals({ ...machine, env: { USER: 'mitsio' }, hasFlake: true })).toEqual({
      user: 'mitsio',
      flake: '/home/mitsio/ws',
      profile: 'shoshin',
      hosts: 'shoshin',
    })
    expect(proposals({ ...machine, env: {}, hasFlake: false }).flake).toBeUndefined()
  })
})

const sink = () => textSink()

async function init(answers: string[], tty = true) {
  const home = mkdtempSync(join(tmpdir(), 'hms-init-'))
  const cwd = mkdtempSync(join(tmpdir(), 'hms-ws-'))
  const stdin = Object.assign(new PassThrough(), { isTTY: tty })
  stdin.end(answers.map((a) => `${a}\n`).join(''))
  const stderr = sink()
  const io = {
    argv: ['init'],
    env: { HOME: home, USER: 'mitsio' },
    cwd,
    stdout: sink(),
    stderr,
    hostname: 'shoshin',
    self: [],
    stdin,
  } as Io
  const code = await run(io)
  const file = join(home, '.config', 'hms', 'config.json')
  return { code, stderr: stderr.text, config: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined }
}

describe('hms init prompt', () => {
  it('proposes defaults and writes the answers', async () => {
    const { code, config, stderr } = await init(['my-cache', '', '', 'desk', 'shoshin,laptop'])
    expect(code).toBe(0)
    expect(stderr).toContain('[mitsio]')
    expect(config).toEqual({ cache: 'my-cache', user: 'mitsio', profiles: { desk: { hosts: ['shoshin', 'laptop'] } } })
  })

  it('asks again for an empty cache, and writes nothing when input ends', async () => {
    const { code, config, stderr } = await init(['', 'c2'])
    expect(code).toBe(1)
    expect(stderr).toContain('cancelled; nothing written')
    expect(config).toBeUndefined()
  })

  it('needs flags when stdin is not a terminal', async () => {
    const { code, stderr } = await init([], false)
    expect(code).toBe(2)
    expect(stderr).toMatch(/needs flags when not run on a terminal — e\.g\. hms init --cache/)
  })
})

describe('init refuses caches every run would refuse', () => {
  it.each(['Bad Name!', 'file://relcache', 'ftp://x'])('%s', async (cache) => {
    const { initConfig } = await import('../../src/plan/init.js')
    expect(() => initConfig({ cache, profileSpecs: [] }, { hostname: 'shoshin', cwd: '/' })).toThrow(
      /cache|file:\/\/|scheme/,
    )
  })
})
