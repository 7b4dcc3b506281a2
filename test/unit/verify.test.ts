import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { HmsError } from '../../src/lib/errors.js'
import { verifyResultSchema, type VerifyResult } from '../../src/plan/schema.js'
import { printVerify } from '../../src/ui/summary.js'
import { narinfoUrl, networkReason, pool, presentIn } from '../../src/backends/verify.js'
import { capturedOutput } from '../helpers/sink.js'

const path = (c: string, name: string) => `/nix/store/${c.repeat(32)}-${name}`
const [a, b, c] = [path('a', 'foo-1.0'), path('b', 'bar-2.0'), path('c', 'baz-source')]

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/** A binary cache over HTTP holding `held`; records what it was asked. */
async function serve(
  held: string[],
  status: (url: string, method: string) => number | undefined = () => undefined,
): Promise<{ url: string; requests: string[]; peak: () => number }> {
  const requests: string[] = []
  let inFlight = 0
  let peak = 0
  const names = new Set(held.map((p) => `/${p.slice(11, 43)}.narinfo`))
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    inFlight++
    peak = Math.max(peak, inFlight)
    setTimeout(() => {
      inFlight--
      res.statusCode = status(req.url!, req.method!) ?? (names.has(req.url!) ? 200 : 404)
      res.end(req.method === 'HEAD' ? undefined : 'StorePath: x\n')
    }, 5)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, peak: () => peak }
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function rejection(promise: Promise<unknown>): Promise<HmsError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof HmsError) return error
    throw error
  }
  throw new Error('expected an HmsError')
}

describe('narinfo lookups', () => {
  it('builds narinfo URLs from the hash, dropping query and trailing slashes', () => {
    expect(narinfoUrl('https://x.cachix.org', a)).toBe(`https://x.cachix.org/${'a'.repeat(32)}.narinfo`)
    expect(narinfoUrl('http://h:1/cache/?priority=40', b)).toBe(`http://h:1/cache/${'b'.repeat(32)}.narinfo`)
  })

  it('file://: a narinfo file in the directory means present', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-verify-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, `${'a'.repeat(32)}.narinfo`), 'StorePath: x\n')
    expect([...(await presentIn({ kind: 'store', url: `file://${dir}` }, [a, b], {}))]).toEqual([a])
    expect([...(await presentIn({ kind: 'store', url: `file://${dir}?compression=zstd` }, [a, b], {}))]).toEqual([a])
  })

  it('file://: a missing directory is an error for verify (exit 2) and an empty cache for a push', async () => {
    const url = `file://${join(tmpdir(), 'hms-no-such-cache-dir')}`
    const error = await rejection(presentIn({ kind: 'store', url }, [a], {}))
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(/cache directory .*hms-no-such-cache-dir does not exist/)
    expect((await presentIn({ kind: 'store', url }, [a], {}, undefined, true)).size).toBe(0)
  })

  it('http://: HEAD per path, 200 present, 404 and 403 missing', async () => {
    const cache = await serve([a], (url) => (url.includes('c'.repeat(32)) ? 403 : undefined))
    const present = await presentIn({ kind: 'store', url: cache.url }, [a, b, c], {})
    expect([...present]).toEqual([a])
    expect(cache.requests.sort()).toEqual([a, b, c].map((p) => `HEAD /${p.slice(11, 43)}.narinfo`).sort())
  })

  it('http://: falls back to GET when the server refuses HEAD', async () => {
    const cache = await serve([a], (_url, method) => (method === 'HEAD' ? 405 : undefined))
    expect([...(await presentIn({ kind: 'store', url: cache.url }, [a, b], {}))]).toEqual([a])
    expect(cache.requests.filter((r) => r.startsWith('GET'))).toHaveLength(2)
  })

  it('http://: keeps at most `jobs` requests in flight', async () => {
    const paths = Array.from({ length: 40 }, (_, i) => path(String.fromCharCode(97 + (i % 26)), `p${i}`))
    const cache = await serve([])
    await presentIn({ kind: 'store', url: cache.url }, paths, {}, { jobs: 3, timeoutMs: 5000 })
    expect(cache.requests).toHaveLength(40)
    expect(cache.peak()).toBeLessThanOrEqual(3)
    expect(cache.peak()).toBeGreaterThan(1)
  })

  it('a refused connection is an error with the reason, never "missing"', async () => {
    const port = await closedPort()
    const error = await rejection(presentIn({ kind: 'store', url: `http://127.0.0.1:${port}` }, [a, b], {}))
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused`)
  })

  it('a server error or a demand for credentials is an error too', async () => {
    const broken = await serve([], () => 500)
    expect((await rejection(presentIn({ kind: 'store', url: broken.url }, [a], {}))).message).toMatch(
      /answered HTTP 500/,
    )
    const locked = await serve([], () => 401)
    expect((await rejection(presentIn({ kind: 'store', url: locked.url }, [a], {}))).hint).toMatch(/netrc/)
  })

  it('a request that hangs ends at the timeout, as an error', async () => {
    const server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const started = Date.now()
    const error = await rejection(presentIn({ kind: 'store', url }, [a], {}, { jobs: 4, timeoutMs: 300 }))
    // Slow, not unreachable: somebody accepted the connection.
    expect(error.message).toMatch(/ is slow: no answer within 300 ms$/)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('names network failures plainly', () => {
    expect(networkReason(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }), 1000)).toBe(
      'host not found',
    )
    expect(networkReason(Object.assign(new Error('x'), { name: 'TimeoutError' }), 15_000)).toBe('no answer within 15s')
  })

  it('pool stops taking work after the first failure', async () => {
    const seen: number[] = []
    await expect(
      pool([1, 2, 3, 4, 5, 6], 1, async (n) => {
        seen.push(n)
        if (n === 2) throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(seen).toEqual([1, 2])
  })
})

describe('printVerify', () => {
  const base: VerifyResult = {
    cache: 'nas',
    url: 'file:///c',
    generation: 57,
    roots: [a],
    total: 412,
    present: 412,
    missing: [],
    missingBytes: 0,
    ok: true,
    error: null,
  }

  async function render(result: VerifyResult): Promise<string> {
    const { out, sink } = await capturedOutput()
    printVerify(verifyResultSchema.parse(result), out)
    return sink.text
  }

  it('one line when everything is there', async () => {
    expect(await render(base)).toBe('✔ 412/412 paths of generation 57 are in nas\n')
  })

  it('count, size and the first few missing paths otherwise', async () => {
    const missing = Array.from({ length: 7 }, (_, i) => ({ path: path('d', `m${i}`), bytes: 1024 }))
    const text = await render({ ...base, present: 405, missing, missingBytes: 7168, ok: false })
    expect(text).toContain('✖ 7 of 412 paths of generation 57 are missing from nas (7.00 KiB):\n')
    expect(text).toContain(`  ${missing[0]!.path} (1.00 KiB)\n`)
    expect(text).not.toContain(missing[5]!.path)
    expect(text).toContain('… and 2 more (hms verify --json lists them all)')
  })

  it('the reason when the cache could not be asked', async () => {
    expect(
      await render({
        ...base,
        generation: null,
        total: 0,
        present: 0,
        ok: false,
        error: 'cannot reach http://x: connection refused',
      }),
    ).toBe(`✖ could not verify ${a} in nas: cannot reach http://x: connection refused\n`)
  })
})

describe('nix path-info --json across Nix versions', () => {
  const p = '/nix/store/0c2pjzqhcdv7fw6l9qa5vnj2p86bwm0v-a'
  it('reads the list (Nix ≤ 2.18) and the object keyed by path (Nix ≥ 2.19)', async () => {
    const { pathInfos } = await import('../../src/backends/verify.js')
    expect(pathInfos(JSON.stringify([{ path: p, narSize: 5, references: [] }]))).toEqual([
      { path: p, narSize: 5, references: [] },
    ])
    expect(pathInfos(JSON.stringify({ [p]: { narSize: 5, references: [] }, '/nix/store/x-gone': null }))).toEqual([
      { path: p, narSize: 5, references: [] },
      { path: '/nix/store/x-gone', valid: false },
    ])
    expect(() => pathInfos('not json')).toThrow(/not JSON/)
    expect(() => pathInfos('42')).toThrow(/does not understand/)
  })
})
