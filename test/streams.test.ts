import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatIdentity, identityOf } from '../src/lib/identity.js'
import { errorDocumentSchema } from '../src/plan/schema.js'
import { binWith, noStackTrace, nothingLeft, useSandboxes } from './helpers/common.js'
import { FIXTURES_BIN, HMS_BIN, type Sandbox } from './helpers/sandbox.js'

const sandbox = useSandboxes()

/** hms in a shell pipeline or redirection; prints hms's own exit code last, as `hms=N`. */
async function shell(s: Sandbox, line: string, env: Record<string, string | undefined> = {}) {
  const run = await s.run('bash', ['-c', `${line}; echo "hms=\${PIPESTATUS[0]}" >&2`], { env, timeoutMs: 120_000 })
  const code = Number(run.stderr.match(/hms=(\d+)\n$/)?.[1])
  return { ...run, hmsExit: code, stderr: run.stderr.replace(/hms=\d+\n$/, '') }
}

const hms = `node ${HMS_BIN}`
const lostLine = /^hms: could not write to stdout \((E[A-Z]+): [^)]+\); output was lost$/gm

describe('stdout that goes away', () => {
  it('hms | true: the reader is gone before home-manager writes, yet the generation is activated', async () => {
    const s = sandbox()
    const run = await shell(s, `${hms} --flake .#mitsio@shoshin | true`)
    expect(s.generation()?.number, run.stderr).toBe(1)
    expect(run.stderr).toMatch(/note: stdout was closed \(EPIPE: the reader closed it\) while home-manager wrote to it/)
    expect(run.stderr).toMatch(/✔ shoshin switched in [\d.]+s \(generation 1\) · pushed 12 paths/)
    expect([...run.stderr.matchAll(lostLine)].map((m) => m[1])).toEqual(['EPIPE'])
    expect(run.hmsExit).toBe(1)
    expect(run.stderr).not.toMatch(noStackTrace)
  })

  it('hms | head -1: the new generation is activated', async () => {
    const s = sandbox()
    const run = await shell(s, `${hms} --flake .#mitsio@shoshin | head -1`)
    expect(s.generation()?.number, run.stderr).toBe(1)
    expect(run.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(run.stderr).not.toMatch(noStackTrace)
  })

  it.each([
    ['--json --flake .#mitsio@shoshin', true],
    ['--flake .#mitsio@shoshin', true],
    ['--plan', false],
    ['status', false],
    ['log --json', false],
  ])('hms %s > /dev/full: one line, exit 1, no stack trace, the switch done', async (args, switches) => {
    const s = sandbox()
    const run = await shell(s, `${hms} ${args} > /dev/full`)
    expect(run.hmsExit, run.stderr).toBe(1)
    expect([...run.stderr.matchAll(lostLine)].map((m) => m[1])).toEqual(['ENOSPC'])
    expect(run.stderr).not.toMatch(noStackTrace)
    expect(s.generation()?.number).toBe(switches ? 1 : undefined)
  })
})

describe('what hms ends after its child', () => {
  it("never a neighbour in its process group (a script's other commands, a test runner's workers)", async () => {
    const s = sandbox()
    const argv = join(s.root, 'hm-started')
    // No job control in a script: hms, its child and the later `sleep 98` all share one group.
    const script = [
      `( ${hms} --flake .#mitsio@shoshin; echo "hms=$?" ) &`,
      `until [ -s ${argv} ]; do sleep 0.1; done`,
      'sleep 98 & neighbour=$!',
      'wait %1',
      'kill -0 $neighbour && echo neighbour-alive',
      'kill $neighbour',
    ].join('\n')
    const run = await s.run('bash', ['-c', script], { env: { HM_STANDIN_ARGV_FILE: argv }, timeoutMs: 120_000 })
    expect(run.stdout, run.stderr).toContain('hms=0')
    expect(run.stdout).toContain('neighbour-alive')
    expect(s.generation()?.number).toBe(1)
  })
})

describe('time limits that hold', () => {
  // sh waits for its sleep: killing sh alone would leave the sleep holding hms's pipe for a minute.
  const hanging = (s: Sandbox) =>
    binWith(
      s,
      'cachix',
      [
        '#!/bin/sh',
        'if [ "$1" = --version ]; then sleep 61; echo "cachix 1.11.1"; exit 0; fi',
        `exec ${join(FIXTURES_BIN, 'cachix')} "$@"`,
      ].join('\n'),
    )

  it('a cachix --version that hangs: hms doctor answers within its 5 s limit and leaves nothing behind', async () => {
    const s = sandbox()
    const started = Date.now()
    const run = await s.hms(['doctor'], { env: { PATH: hanging(s) }, timeoutMs: 90_000 })
    const took = Date.now() - started
    expect(run.stdout).toMatch(/no answer within 5s/)
    expect(took).toBeLessThan(15_000)
    await nothingLeft(s, [], 5_000)
  })

  it(
    'a cachix --version that hangs: the switch falls back after its 10 s limit, ' + 'not when cachix gives up',
    async () => {
      const s = sandbox()
      const started = Date.now()
      const run = await s.hms(['--flake', '.#mitsio@shoshin'], { env: { PATH: hanging(s) }, timeoutMs: 90_000 })
      const took = Date.now() - started
      expect(run.exitCode, run.stderr).toBe(0)
      expect(run.stderr).toMatch(/could not read the version of .*cachix/)
      expect(took).toBeLessThan(40_000)
      expect(s.generation()?.number).toBe(1)
    },
  )
})

describe('--json on early errors: still exactly one document', () => {
  const cases: [string, string[], (s: Sandbox) => Record<string, string | undefined>][] = [
    ['a bad config', ['--json', '--flake', '.#mitsio@shoshin'], (s) => config(s, '{ "cache": 5 }')],
    ['the switch lock held', ['--json', '--flake', '.#mitsio@shoshin'], (s) => held(s, 'switch.lock')],
    ['--strict without cachix', ['--json', '--strict', '--flake', '.#mitsio@shoshin'], (s) => ({ PATH: noCachix(s) })],
    ['hms push with no generation', ['push', '--json'], () => ({})],
    ['a bad option value', ['--json', '--retries', 'many'], () => ({})],
    ['status with a bad config', ['status', '--json'], (s) => config(s, '{ "push": { "jobs": -1 } }')],
    ['verify with a bad config', ['verify', '--json'], (s) => config(s, 'not json')],
    ['log with a bad --lines', ['log', '--json', '--lines', 'many'], () => ({})],
    ['doctor with a stray argument', ['doctor', '--json', 'extra'], () => ({})],
  ]

  it.each(cases)('%s', async (_name, args, setup) => {
    const s = sandbox()
    const run = await s.hms(args, { env: setup(s) })
    expect(run.exitCode).not.toBe(0)
    const document = errorDocumentSchema.parse(JSON.parse(run.stdout))
    expect(document.exitCode).toBe(run.exitCode)
    expect(run.stderr).toContain(`hms: ${document.error.message}`)
  })
})

function config(s: Sandbox, text: string): Record<string, string> {
  const dir = join(s.env.XDG_CONFIG_HOME!, 'hms')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), text)
  return {}
}

function held(s: Sandbox, lock: string): Record<string, string> {
  const dir = join(s.env.XDG_STATE_HOME!, 'hms')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, lock), `${formatIdentity(identityOf(process.pid))}\n`)
  return {}
}

function noCachix(s: Sandbox): string {
  const bin = join(s.root, 'no-cachix')
  mkdirSync(bin)
  symlinkSync(join(FIXTURES_BIN, 'home-manager'), join(bin, 'home-manager'))
  return s.env
    .PATH!.split(':')
    .map((d) => (d === FIXTURES_BIN ? bin : d))
    .join(':')
}
