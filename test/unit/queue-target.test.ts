import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { printable, shellWord } from '../../src/lib/format.js'
import { queueTarget, sameTarget, storedUrl } from '../../src/state/queue-target.js'

describe('what a queue entry remembers of its target', () => {
  it('keeps the kind and the URL, never its credentials', () => {
    expect(queueTarget({ kind: 'cachix', name: 'mine' })).toEqual({ kind: 'cachix', name: 'mine' })
    const stored = queueTarget({ kind: 'store', url: 'https://me:s3cret@cache.example/nix/', secretKeyFile: '/k' })
    expect(stored).toEqual({ kind: 'store', url: 'https://cache.example/nix' })
    expect(storedUrl('ssh://nix@nas')).toBe('ssh://nix@nas')
    expect(storedUrl('s3://bucket?region=eu-1&aws_secret=abc&token=t&profile=p')).toBe(
      's3://bucket?region=eu-1&profile=p',
    )
    expect(storedUrl('http://:pw@host/')).toBe('http://host')
  })

  it('compares kind and place', () => {
    const a = { kind: 'store', url: 'file:///a' } as const
    expect(sameTarget(a, queueTarget({ kind: 'store', url: 'file:///a/' }))).toBe(true)
    expect(sameTarget({ kind: 'store', url: 'file:///a' }, { kind: 'cachix', name: 'a' })).toBe(false)
    expect(sameTarget({ kind: 'cachix', name: 'nas' }, { kind: 'cachix', name: 'nas' })).toBe(true)
  })
})

describe('printable', () => {
  it('escapes control characters, keeps the rest', () => {
    expect(printable('evil\u001b[31m\u0007\u009b é →')).toBe('evil\\x1b[31m\\x07\\x9b é →')
  })
})

describe('shellWord', () => {
  it.each([
    ['nas', 'nas'],
    ["it's", "'it'\\''s'"],
    ['evil\u001b[31mRED', "$'evil\\x1b[31mRED'"],
    ["a'b\\\u009b", "$'a\\'b\\\\\\u009b'"],
  ])('%j → %s (what bash reads back is the word)', (word, shown) => {
    expect(shellWord(word)).toBe(shown)
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(spawnSync('bash', ['-c', `printf %s ${shown}`], { encoding: 'utf8' }).stdout).toBe(word)
  })
})
