// Issue 4: `hms verify` against real caches made by a real push: a directory, and the same
// directory served over HTTP by a server this test starts.
import { cpSync, createReadStream, existsSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, normalize } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyResultSchema } from '../src/plan/schema.js'
import { withoutCachix } from './helpers/common.js'
import { makeSandbox, type Sandbox } from './helpers/sandbox.js'

let s: Sandbox
let pushed: string
let generation: { number: number; path: string }
let closure: string[]
const servers: Server[] = []

beforeAll(async () => {
  s = makeSandbox()
  withoutCachix(s)
  pushed = join(s.root, 'pushed')
  const run = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', `file://${pushed}`])
  expect(run.exitCode, run.stderr).toBe(0)
  generation = s.generation()!
  closure = s.closure(generation.path)
})

afterAll(async () => {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections()
          server.close(resolve)
        }),
    ),
  )
  s?.cleanup()
})

/** A fresh copy of the pushed cache, so each test can break its own. */
function cacheCopy(name: string): string {
  const dir = join(s.root, name)
  cpSync(pushed, dir, { recursive: true })
  return dir
}

const narinfo = (dir: string, path: string) => join(dir, `${path.slice(11, 43)}.narinfo`)
const byName = (name: string) => closure.find((p) => p.slice(44) === name)!

/** Serves `dir` read-only, as nix-serve or a static web server would; records each request. */
async function serve(dir: string): Promise<{ url: string; requests: string[]; peak: () => number }> {
  const requests: string[] = []
  let inFlight = 0
  let peak = 0
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`)
    peak = Math.max(peak, ++inFlight)
    res.on('close', () => inFlight--)
    await new Promise((resolve) => setTimeout(resolve, 10))
    const file = join(dir, normalize(decodeURIComponent(req.url!.split('?')[0]!)))
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404
      return res.end()
    }
    res.setHeader('content-length', statSync(file).size)
    if (req.method === 'HEAD') return res.end()
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, peak: () => peak }
}

describe('hms verify, file://', () => {
  it('exits 0 when the whole generation is there', async () => {
    const dir = cacheCopy('complete')
    const run = await s.hms(['verify', '--cache', `file://${dir}`])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toBe(
      `✔ ${closure.length}/${closure.length} paths of generation ${generation.number} are in file://${dir}\n`,
    )
    const json = await s.hms(['verify', '--cache', `file://${dir}`, '--json'])
    expect(verifyResultSchema.parse(JSON.parse(json.stdout))).toMatchObject({
      ok: true,
      total: closure.length,
      present: closure.length,
      missing: [],
      generation: generation.number,
      roots: [generation.path],
      error: null,
    })
  })

  it('exits 1 naming the path whose narinfo is gone', async () => {
    const dir = cacheCopy('one-gone')
    const gone = byName('hm-pkg-hello-2.12')
    rmSync(narinfo(dir, gone))
    const run = await s.hms(['verify', '--cache', `file://${dir}`])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(
      new RegExp(
        `^✖ 1 of ${closure.length} paths of generation ${generation.number} are missing from file://${dir} ` +
          `\\(\\d+\\.\\d\\d KiB\\):\n  ${gone} \\(`,
      ),
    )
    const json = await s.hms(['verify', '--cache', `file://${dir}`, '--json'])
    expect(json.exitCode).toBe(1)
    const result = verifyResultSchema.parse(JSON.parse(json.stdout))
    expect(result.missing.map((m) => m.path)).toEqual([gone])
    expect(result.missing[0]!.bytes).toBeGreaterThan(4096)
    expect(result).toMatchObject({ ok: false, present: closure.length - 1, missingBytes: result.missing[0]!.bytes })
  })

  it('checks the closure of paths given on the command line instead of the generation', async () => {
    const dir = cacheCopy('by-path')
    rmSync(narinfo(dir, byName('hm-pkg-git-2.44')))
    const hello = await s.hms(['verify', '--cache', `file://${dir}`, byName('hm-pkg-hello-2.12')])
    expect(hello.exitCode, hello.stderr).toBe(0)
    expect(hello.stderr).toBe(`✔ 2/2 paths of ${byName('hm-pkg-hello-2.12')} are in file://${dir}\n`)
    const git = await s.hms(['verify', '--cache', `file://${dir}`, byName('hm-pkg-git-2.44'), '--json'])
    expect(git.exitCode).toBe(1)
    expect(JSON.parse(git.stdout).missing.map((m: { path: string }) => m.path)).toEqual([byName('hm-pkg-git-2.44')])
  })

  it('is an error, not "everything missing", when the directory is not there', async () => {
    const run = await s.hms(['verify', '--cache', `file://${s.root}/unmounted`, '--json'])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(`hms: cache directory ${s.root}/unmounted does not exist`)
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      missing: [],
      error: `cache directory ${s.root}/unmounted does not exist`,
    })
  })
})

describe('hms verify, http:// served by a local server', () => {
  it('asks with HEAD, at most --jobs at a time, and finds a removed narinfo', async () => {
    const dir = cacheCopy('served')
    const server = await serve(dir)
    const complete = await s.hms(['verify', '--cache', server.url, '--jobs', '2'])
    expect(complete.exitCode, complete.stderr).toBe(0)
    expect(complete.stderr).toBe(
      `✔ ${closure.length}/${closure.length} paths of generation ${generation.number} are in ${server.url}\n`,
    )
    expect(server.requests.sort()).toEqual(closure.map((p) => `HEAD /${p.slice(11, 43)}.narinfo`).sort())
    expect(server.peak()).toBe(2)

    const gone = byName('home-manager-path')
    rmSync(narinfo(dir, gone))
    const broken = await s.hms(['verify', '--cache', server.url, '--json'])
    expect(broken.exitCode).toBe(1)
    expect(JSON.parse(broken.stdout).missing.map((m: { path: string }) => m.path)).toEqual([gone])
  })

  it('hms switch --verify puts the result in the summary', async () => {
    const dir = cacheCopy('switch-verify')
    const run = await s.hms(['--flake', '.#mitsio@shoshin', '--cache', `file://${dir}`, '--verify'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/· nothing new to push → file:.*\n/)
    expect(run.stderr).toContain(
      `✔ ${closure.length}/${closure.length} paths of generation ${s.generation()!.number} are in file://${dir}\n`,
    )
  })
})
