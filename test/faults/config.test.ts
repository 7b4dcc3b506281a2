import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { worldReadableHms } from '../helpers/sandbox.js'
import { runInProcess, stackTrace } from './io.js'

const valid = {
  cache: 'modular-workspace',
  user: 'mitsio',
  flake: '~/ws',
  profiles: { shoshin: { hosts: ['shoshin'], cache: 'modular-workspace-skylake' }, kinoite: { hosts: ['kinoite'] } },
  push: { jobs: 8, compressionMethod: 'zstd', strict: false, autoRetry: true, retries: 2 },
} as Record<string, unknown>

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Every path to a value in the document, e.g. ['profiles', 'shoshin', 'cache']. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix]
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))]
}

function setAt(doc: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(doc)
  let node = copy as Record<string, unknown>
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>
  node[path.at(-1)!] = value
  return copy
}

const at = (path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], valid)
/** The objects whose keys are settings (the top level, a profile, push): a key added there is unknown. Not
 * `profiles` itself, whose keys are names. */
const settingObjects = paths(valid).filter((p) => {
  const node = at(p)
  return p.length < 3 && typeof node === 'object' && node !== null && !Array.isArray(node) && p.join('.') !== 'profiles'
})

const wrongValue = fc.oneof(
  fc.integer({ min: -5, max: 0 }),
  fc.constant(true),
  fc.constant(null),
  fc.constant([1]),
  fc.constant(''),
) as fc.Arbitrary<Json>
const mutation = fc.oneof(
  fc.tuple(fc.constantFrom(...paths(valid).filter((p) => p.length > 0)), wrongValue).map(([path, value]) => ({
    kind: 'wrong type',
    text: JSON.stringify(setAt(valid, path, value)),
    field: path.join('.'),
  })),
  fc.tuple(fc.constantFrom(...settingObjects), fc.stringMatching(/^[a-z]{3,8}$/)).map(([path, key]) => {
    const text = JSON.stringify(path.length ? setAt(valid, [...path, `x${key}`], 1) : { ...valid, [`x${key}`]: 1 })
    return { kind: 'unknown key', text, field: [...path, `x${key}`].join('.') }
  }),
  fc
    .integer({ min: 0, max: JSON.stringify(valid).length - 1 })
    .map((n) => ({ kind: 'truncated', text: JSON.stringify(valid).slice(0, n), field: '' })),
)

/** The few "wrong" values the README documents as valid for their field: a boolean `true`, zero retries. */
function stillValid(field: string, doc: Record<string, unknown>): boolean {
  const value = field
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc)
  return (
    (['push.strict', 'push.autoRetry'].includes(field) && value === true) || (field === 'push.retries' && value === 0)
  )
}

const configCases = { mutations: 200, special: 4 }

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hms-cfgfault-'))
  writeFileSync(join(dir, 'config.json'), text)
  return join(dir, 'config.json')
}

describe('config faults', () => {
  it('unknown keys are tried in every object of settings', () => {
    expect(settingObjects.map((p) => p.join('.'))).toEqual(['', 'profiles.shoshin', 'profiles.kinoite', 'push'])
  })

  it('random mutations of a valid config: exit 2, one line naming the file and the field, nothing run', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const file = configFile(m.text)
        const result = await runInProcess(['--flake', '.#mitsio@shoshin'], { HMS_CONFIG: file })
        expect(result.stderr).not.toMatch(stackTrace)
        const lines = result.stderr.trim().split('\n')
        expect(lines).toHaveLength(1)
        if (m.kind === 'wrong type' && stillValid(m.field, JSON.parse(m.text))) {
          // The config is good: hms runs on and stops only for lack of home-manager (its PATH is empty).
          expect(result.exitCode, `${m.text}: ${result.stderr}`).toBe(127)
          expect(lines[0]).toMatch(/^hms: home-manager not found on PATH/)
        } else {
          expect(result.exitCode, `${m.kind} ${m.text}: ${result.stderr}`).toBe(2)
          expect(lines[0]).toContain(file)
          if (m.kind === 'unknown key') expect(lines[0]).toContain(`unknown key "${m.field}"`)
          if (m.kind === 'wrong type') expect(lines[0]).toContain(`: ${m.field}`)
          if (m.kind === 'truncated') expect(lines[0]).toMatch(/invalid (JSON|config)/)
        }
      }),
      { numRuns: configCases.mutations },
    )
  })

  it('an empty file, a directory, a missing HMS_CONFIG: exit 2 with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-cfgfault-'))
    mkdirSync(join(dir, 'as-dir'))
    for (const [file, reason] of [
      [configFile(''), /invalid JSON/],
      [join(dir, 'as-dir'), /it is a directory/],
      [join(dir, 'missing.json'), /no such file/],
    ] as const) {
      const result = await runInProcess([], { HMS_CONFIG: file })
      expect(result.exitCode).toBe(2)
      expect(result.stderr).toMatch(reason)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  // Only root can become `nobody`; root itself reads any file.
  it.skipIf(process.getuid?.() !== 0)(
    'an unreadable file (hms running as an ordinary user): exit 2, permission denied',
    async () => {
      const file = configFile(JSON.stringify(valid))
      chmodSync(file, 0o000)
      chmodSync(join(file, '..'), 0o755)
      // Beside the config: hms-copy/ in the same temp dir, removed with it.
      const hms = worldReadableHms(dirname(file))
      const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups']
      const run = await execa('setpriv', [...nobody, process.execPath, hms, '--plan'], {
        env: { HMS_CONFIG: file, HOME: '/tmp', PATH: '/usr/bin:/bin', NO_COLOR: '1' },
        extendEnv: false,
        reject: false,
      })
      rmSync(dirname(file), { recursive: true, force: true })
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toMatch(/^hms: cannot read config .*config\.json: permission denied/)
    },
  )
})
