import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pending, useSandboxes } from './helpers/common.js'
import type { Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes({ cache: false })

function withMissingKey(s: Sandbox): string {
  const cache = join(s.root, 'nas')
  const dir = join(s.env.XDG_CONFIG_HOME!, 'hms')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ caches: { nas: { url: `file://${cache}`, secretKeyFile: '~/nokey.sec' } }, cache: 'nas' }),
  )
  return cache
}

const count = (text: string, part: string) => text.split(part).length - 1

describe('a signing key nobody can read (issue 11: permanent refusals are said once, with the fix)', () => {
  it('hms doctor fails it in one line with the fix; the Cachix credentials line is no warning', async () => {
    const s = sandbox()
    withMissingKey(s)
    const run = await s.hms(['doctor', '--flake', '.#mitsio@shoshin'])
    expect(run.exitCode, run.stdout).not.toBe(0)
    const key = `${s.home}/nokey.sec`
    const line = run.stdout.split('\n').find((l) => l.includes('credentials:'))
    expect(line).toMatch(
      new RegExp(
        `^✖ credentials: +signing key ${key} cannot be read — create it \\(nix-store --generate-binary-cache-key`,
      ),
    )
    expect(line).toContain('caches.nas.secretKeyFile')
    writeFileSync(key, 'nas:not-a-real-key\n')
    const fixed = await s.hms(['doctor', '--flake', '.#mitsio@shoshin'])
    expect(fixed.stdout).toMatch(/^✔ credentials: +Cachix credentials not needed: .*; signing with /m)
  })

  it(
    'a switch refuses the push once, without retries, and queues the paths with the reason; ' + 'so does hms push',
    async () => {
      const s = sandbox()
      const cache = withMissingKey(s)
      const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { HMS_RETRY_BASE_MS: '1' } })
      expect(run.exitCode, run.stderr).toBe(0)
      expect(s.generation()?.number).toBe(1)
      expect(count(run.stderr, 'cannot be read')).toBe(1)
      expect(run.stderr).not.toMatch(/retry \d|opening file/)
      const queued = pending(s)
      expect(queued.map((e) => e.path)).toContain(s.generation()!.path)
      for (const e of queued) expect(e.reason).toContain(`signing key ${s.home}/nokey.sec cannot be read`)
      expect(s.cachePaths(cache).size).toBe(0)

      const push = await s.hms(['push', '--pending'], { env: { HMS_RETRY_BASE_MS: '1' } })
      expect(push.stderr).toMatch(/✖ push to nas failed/)
      expect(count(push.stderr, 'cannot be read')).toBe(1)
      expect(push.stderr).not.toMatch(/retry \d|opening file/)
      expect(pending(s)).toHaveLength(queued.length)
    },
  )
})
