import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSandbox, SECRET_MARKER } from '../helpers/sandbox.js'

const s = makeSandbox()
s.cacheDir('modular-workspace')
afterAll(() => s.cleanup())

/** Every kind of output hms has: success, verbose, JSON, plan, errors, each subcommand. */
const secretCommands: string[][] = [
  ['--flake', '.#mitsio@shoshin', '-v'],
  ['--flake', '.#mitsio@shoshin', '--json', '-v'],
  ['--plan', '-v'],
  ['--plan', '--json'],
  ['push', '-v', '--json'],
  ['push', '--pending', '-v'],
  ['status', '--json'],
  ['status'],
  ['log'],
  ['doctor', '-v'],
  ['doctor', '--json'],
  ['verify', '--json'],
  ['--cache'],
  ['--bogus-flag-xyz', '--strict'],
  ['completion', 'bash'],
]

describe('secrets', () => {
  it('no output of any command contains the token, from the environment or from cachix.dhall', async () => {
    const dhall = join(s.env.XDG_CONFIG_HOME!, 'cachix')
    mkdirSync(dhall, { recursive: true })
    writeFileSync(
      join(dhall, 'cachix.dhall'),
      `{ authToken = "${SECRET_MARKER}-dhall", hostname = "https://cachix.org", binaryCaches = [] : List { name : ` +
        'Text, secretKey : Text } }',
    )
    for (const env of [
      {},
      { CACHIX_AUTH_TOKEN: undefined },
      { CACHIX_AUTH_TOKEN: undefined, CACHIX_SIGNING_KEY: SECRET_MARKER },
    ]) {
      for (const args of secretCommands) {
        const run = await s.hms(args, { env })
        expect(run.stdout + run.stderr, `hms ${args.join(' ')}`).not.toContain(SECRET_MARKER)
      }
    }
  }, 180_000)
})

describe('credentials inside a cache URL', () => {
  it('are masked in every output', async () => {
    const url = 'https://mitsio:hunter2-in-url@127.0.0.1:9/cache'
    for (const args of [
      ['--plan', '--cache', url],
      ['--plan', '--json', '--cache', url],
      ['verify', '--cache', url],
      ['doctor', '--cache', url],
      ['push', '--plan', '--cache', url, '/nix/store/00000000000000000000000000000000-x'],
    ]) {
      const run = await s.hms(args)
      expect(run.stdout + run.stderr, `hms ${args.join(' ')}`).not.toContain('hunter2-in-url')
    }
    // Not even masked: what hms shows and stores is the URL without its credentials.
    expect((await s.hms(['--plan', '--cache', url])).stdout).toContain('https://127.0.0.1:9/cache')
    // An S3 access key id is half of the credential: not even it is shown.
    for (const args of [
      ['--plan', '--cache', 's3://AKIAHMSKEYID:s3cret@bucket'],
      ['doctor', '--cache', 's3://AKIAHMSKEYID:s3cret@bucket'],
    ]) {
      const run = await s.hms(args)
      expect(run.stdout + run.stderr).not.toMatch(/AKIAHMSKEYID|s3cret/)
    }
    // A URL without a host: one line, not "check crashed".
    const doctor = await s.hms(['doctor', '--cache', 'http://'])
    expect(doctor.stderr + doctor.stdout).toContain('"http://" (from --cache) has no host')
    expect(doctor.stderr + doctor.stdout).not.toContain('crashed')
  })
})
