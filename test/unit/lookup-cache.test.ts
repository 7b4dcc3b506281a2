import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freshLookupCache } from '../../src/backends/store/lookup-cache.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe("nix copy's narinfo lookup cache", () => {
  it('is a new empty private dir for a binary cache, gone when the copy is done', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hms-lookups-'))
    dirs.push(tmp)
    for (const url of ['http://127.0.0.1:9/c', 'https://cache.example', 'file:///mnt/c', 's3://bucket']) {
      const env = { TMPDIR: tmp, XDG_CACHE_HOME: '/home/m/.cache', HOME: '/home/m' }
      const lookups = freshLookupCache(url, env)
      const dir = lookups.env.XDG_CACHE_HOME!
      expect(dir.startsWith(`${tmp}/`)).toBe(true)
      expect(readdirSync(dir)).toEqual([])
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(lookups.env.HOME).toBe('/home/m')
      lookups.done()
      expect(existsSync(dir)).toBe(false)
    }
  })

  it('is left alone for ssh stores, which keep none', () => {
    const env = { XDG_CACHE_HOME: '/home/m/.cache' }
    for (const url of ['ssh://nas', 'ssh-ng://root@nas']) expect(freshLookupCache(url, env).env).toBe(env)
  })
})
