import { describe, expect, it } from 'vitest'
import { colorLevel } from '../../src/ui/output.js'
import { formatBytes, formatDuration, parseBytes, shellJoin } from '../../src/lib/format.js'

describe('colours follow NO_COLOR / FORCE_COLOR / the terminal', () => {
  it.each([
    [{}, true, 1],
    [{}, false, 0],
    [{ NO_COLOR: '1' }, true, 0],
    [{ FORCE_COLOR: '1' }, false, 1],
    [{ FORCE_COLOR: '0' }, true, 0],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, 1],
    [{ TERM: 'dumb' }, true, 0],
  ])('%j on a terminal=%s → level %i', (env, tty, level) => {
    expect(colorLevel(env, tty)).toBe(level)
  })
})

describe('format', () => {
  it.each([
    [0, '0.00 B'],
    [1023, '1023.00 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [45.2 * 1024 ** 2, '45.20 MiB'],
    [3 * 1024 ** 3, '3.00 GiB'],
    [1024 ** 4, '1.00 TiB'],
  ])('%i bytes → %s, as cachix prints', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
    const [amount, unit] = text.split(' ')
    expect(parseBytes(amount!, unit!)).toBe(Math.round(bytes))
  })

  it('durations and shell quoting', () => {
    expect(formatDuration(41_200)).toBe('41.2s')
    expect(formatDuration(125_000)).toBe('2m5s')
    expect(shellJoin(['home-manager', 'switch', '--flake', '.#mitsio@shoshin', "it's", '~/ws', ''])).toBe(
      `home-manager switch --flake '.#mitsio@shoshin' 'it'\\''s' '~/ws' ''`,
    )
  })
})

describe('signal exit codes', () => {
  it('is 128 + the signal number, for every signal', async () => {
    const { signalExitCode } = await import('../../src/lib/errors.js')
    expect([
      signalExitCode('SIGINT'),
      signalExitCode('SIGTERM'),
      signalExitCode('SIGKILL'),
      signalExitCode('SIGABRT'),
      signalExitCode('SIGHUP'),
    ]).toEqual([130, 143, 137, 134, 129])
    expect(signalExitCode(undefined)).toBeUndefined()
  })
})
