import { describe, expect, it } from 'vitest'
import { fingerprint } from '../../src/lib/fingerprint.js'

describe('fingerprint', () => {
  it('is the same for the same text and 14 hex digits', () => {
    expect(fingerprint('{"cache":"nas"}')).toBe(fingerprint('{"cache":"nas"}'))
    expect(fingerprint('')).toMatch(/^[0-9a-f]{14}$/)
  })

  it('tells apart every one-character edit of a config', () => {
    const text = JSON.stringify({ cache: 'nas', caches: { nas: { url: 'file:///mnt/nas/nix-cache' } } })
    const seen = new Set([fingerprint(text)])
    for (let i = 0; i < text.length; i++) {
      for (const c of ['x', ' ', '0']) seen.add(fingerprint(text.slice(0, i) + c + text.slice(i + 1)))
      seen.add(fingerprint(text.slice(0, i) + text.slice(i + 1)))
    }
    const distinct = new Set<string>([text])
    for (let i = 0; i < text.length; i++) {
      for (const c of ['x', ' ', '0']) distinct.add(text.slice(0, i) + c + text.slice(i + 1))
      distinct.add(text.slice(0, i) + text.slice(i + 1))
    }
    expect(seen.size).toBe(distinct.size)
  })
})
