import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useSandboxes } from './helpers/common.js'
import type { Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes({ cache: false })

const configFile = (s: Sandbox) => join(s.env.XDG_CONFIG_HOME!, 'hms', 'config.json')

describe('hms init', () => {
  it('writes a config that hms --plan then uses', async () => {
    const s = sandbox()
    const init = await s.hms([
      'init',
      '--cache',
      'top-cache',
      '--flake',
      '.',
      '--user',
      'mitsio',
      '--profile',
      'desk=shoshin,desk2:desk-cache',
      '--profile',
      'kinoite',
    ])
    expect(init.exitCode, init.stderr).toBe(0)
    expect(init.stderr).toContain(`wrote ${configFile(s)}`)
    expect(JSON.parse(readFileSync(configFile(s), 'utf8'))).toEqual({
      cache: 'top-cache',
      user: 'mitsio',
      flake: s.flakeDir,
      profiles: { desk: { hosts: ['shoshin', 'desk2'], cache: 'desk-cache' }, kinoite: { hosts: ['kinoite'] } },
    })
    const plan = await s.hms(['--plan', '--json', '-p', 'desk'])
    expect(plan.exitCode, plan.stderr).toBe(0)
    expect(JSON.parse(plan.stdout)).toMatchObject({
      profile: 'desk',
      host: 'shoshin',
      cache: 'desk-cache',
      flake: `${s.flakeDir}#mitsio@shoshin`,
    })
    const other = JSON.parse((await s.hms(['--plan', '--json', '--flake', '.#mitsio@kinoite'])).stdout)
    expect(other).toMatchObject({ profile: 'kinoite', cache: 'top-cache' })
  })

  it('refuses to overwrite without --force; --force does', async () => {
    const s = sandbox()
    expect((await s.hms(['init', '--cache', 'first'])).exitCode).toBe(0)
    const refused = await s.hms(['init', '--cache', 'second'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toBe(`hms: ${configFile(s)} already exists — pass --force to overwrite it\n`)
    expect(JSON.parse(readFileSync(configFile(s), 'utf8')).cache).toBe('first')
    const forced = await s.hms(['init', '--cache', 'second', '--force'])
    expect(forced.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(configFile(s), 'utf8')).cache).toBe('second')
  })

  it('without flags and without a terminal: exit 2 with a hint, nothing written', async () => {
    const s = sandbox()
    const r = await s.hms(['init'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/^hms: hms init needs flags when not run on a terminal — e\.g\. hms init --cache /)
    expect(existsSync(configFile(s))).toBe(false)
  })

  it('rejects a bad profile before writing anything', async () => {
    const s = sandbox()
    const r = await s.hms(['init', '--cache', 'c', '--profile', 'desk='])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('bad --profile "desk="')
    expect(existsSync(configFile(s))).toBe(false)
  })
})
