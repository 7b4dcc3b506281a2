// The question `hms doctor` asks an http cache through its backend (backends/store/probe.ts), against
// a real HTTP server on loopback answering `nix-cache-info` as each case needs.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { probeHttp } from '../../src/backends/store/probe.js'

let server: Server
let base: string
/** Path prefix → what the server does with a request for `<prefix>/nix-cache-info`. */
const answers: Record<string, (auth: string | undefined) => number | 'hang'> = {
  ok: () => 200,
  private: (auth) => (auth === 'Bearer good' ? 200 : 401),
  broken: () => 502,
  slow: () => 'hang',
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers[request.url!.split('/')[1]!]?.(request.headers.authorization) ?? 404
    if (answer === 'hang') return
    response.writeHead(answer).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const limits = { jobs: 1, timeoutMs: 300 }
const fixes = { notFound: 'check the URL', privateOk: 'private, fine' }

describe('probeHttp', () => {
  it.each([
    ['ok', {}, { status: 'ok', message: 'C is a binary cache' }],
    ['private', {}, { status: 'ok', message: 'private, fine' }],
    ['private', { authorization: 'Bearer good' }, { status: 'ok', message: 'C is a binary cache' }],
    [
      'private',
      { authorization: 'Bearer bad' },
      { status: 'fail', message: 'C answered HTTP 401 (not authorised)', fix: expect.stringContaining('refused') },
    ],
    ['gone', {}, { status: 'fail', message: 'C is not a binary cache (HTTP 404 for nix-cache-info)' }],
    ['broken', {}, { status: 'later', message: 'C answered HTTP 502' }],
    ['slow', {}, { status: 'later', message: 'C is slow: no answer within 300 ms' }],
  ])('/%s with %j → %j', async (path, headers, expected) => {
    expect(await probeHttp(`${base}/${path}/`, headers, 'C', limits, fixes)).toMatchObject(expected)
  })

  it('a private cache without privateOk (a store URL) wants credentials', async () => {
    const probe = await probeHttp(`${base}/private`, {}, 'C', limits, { notFound: 'x' })
    expect(probe).toMatchObject({ status: 'fail', fix: expect.stringContaining('put them in the netrc file') })
  })

  it('a host that does not resolve is offline, not a failure', async () => {
    const probe = await probeHttp('https://hms-doctor.invalid', {}, 'C', limits, fixes)
    expect(probe).toMatchObject({ status: 'offline' })
    expect(probe.message).toMatch(
      /^skipped: offline, cannot resolve or reach hms-doctor\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/,
    )
  })

  it('a closed port is a failure with the fix', async () => {
    const probe = await probeHttp('http://127.0.0.1:1', {}, 'C', limits, fixes)
    expect(probe).toEqual({
      status: 'fail',
      message: 'cannot reach C: connection refused',
      fix: 'check the URL and that the server is up',
    })
  })

  it('a Cachix token that is refused names CACHIX_AUTH_TOKEN', async () => {
    const label = 'Cachix cache c'
    const probe = await probeHttp(`${base}/private`, { authorization: 'Bearer bad' }, label, limits, fixes)
    expect(probe).toMatchObject({ status: 'fail', fix: 'the cache wants credentials (CACHIX_AUTH_TOKEN)' })
  })
})
