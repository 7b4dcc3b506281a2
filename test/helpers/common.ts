import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { summarySchema } from '../../src/plan/schema.js'
import { FIXTURES_BIN, makeSandbox, type Sandbox } from './sandbox.js'

/**
 * A fresh sandbox per call (with the default Cachix cache created, unless told not to), all cleaned up after each test.
 */
export function useSandboxes(options: { cache?: boolean } = {}): () => Sandbox {
  const made: Sandbox[] = []
  afterEach(() => {
    for (const s of made.splice(0)) s.cleanup()
  })
  return () => {
    const s = makeSandbox()
    made.push(s)
    if (options.cache !== false) s.cacheDir('modular-workspace')
    return s
  }
}

/** The `--json` summary, validated by the schema the README documents. */
export const summaryOf = (stdout: string) => summarySchema.parse(JSON.parse(stdout))

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(25)
  }
}

/** One pattern from pieces (regex literals, flags from the first), for a pattern longer than a line. */
export const joined = (...parts: RegExp[]) => new RegExp(parts.map((p) => p.source).join(''), parts[0]?.flags)

/** Whether a process the sandbox started runs with exactly this command line (`ps -o args`). */
export const runs = (s: Sandbox, args: string) => s.processes().some((p) => p.args === args)

/**
 * Waits until no process the sandbox started is running, but those in `except` (a terminal's tmux server and
 * shell); fails naming the ones left after `ms`.
 */
export async function nothingLeft(s: Sandbox, except: number[] = [], ms = 10_000): Promise<void> {
  const left = () => s.processes().filter((p) => !except.includes(p.pid))
  try {
    await until(() => left().length === 0, ms)
  } catch {
    throw new Error(
      `still running:\n${left()
        .map((p) => `${p.pid} ${p.args}`)
        .join('\n')}`,
    )
  }
}

/** Entries of hms's pending queue in a sandbox. */
export function pending(s: Sandbox): { path: string; cache: string; reason: string; since: string }[] {
  const file = join(s.env.XDG_STATE_HOME!, 'hms', 'pending.jsonl')
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : []
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const noStackTrace = /\n\s+at .+:\d+:\d+|^\s+at /m

/** The sandbox without cachix: not on its PATH, no token (store-URL caches need neither). */
export function withoutCachix(s: Sandbox): void {
  s.env.PATH = pathWithout(s, 'cachix')
  delete (s.env as Record<string, string | undefined>).CACHIX_AUTH_TOKEN
}

/** The sandbox PATH with the stand-in `missing` taken away. */
export function pathWithout(s: Sandbox, missing: string): string {
  return instead(s, standInsBut(s, missing, `bin-without-${missing}`))
}

/** A PATH with the stand-ins, except `name`, which is a script of the test's own. */
export function binWith(s: Sandbox, name: string, script: string): string {
  const bin = standInsBut(s, name, `bin-${name}`)
  writeFileSync(join(bin, name), script)
  chmodSync(join(bin, name), 0o755)
  return instead(s, bin)
}

/** A directory `dir` under the sandbox with links to every stand-in but `name`. */
function standInsBut(s: Sandbox, name: string, dir: string): string {
  const bin = join(s.root, dir)
  mkdirSync(bin, { recursive: true })
  for (const entry of readdirSync(FIXTURES_BIN)) {
    if (entry !== name) symlinkSync(join(FIXTURES_BIN, entry), join(bin, entry))
  }
  return bin
}

/** The sandbox PATH with `bin` where the stand-ins were. */
function instead(s: Sandbox, bin: string): string {
  return s.env
    .PATH!.split(':')
    .map((d) => (d === FIXTURES_BIN ? bin : d))
    .join(':')
}

/**
 * `program` as found on the sandbox PATH, behind a script that appends each call's argv (`program
 * ARGS…`, one line) to the returned file first; the sandbox PATH finds the script first from now on.
 */
export function recordingCalls(s: Sandbox, program: string): string {
  const bin = join(s.root, `bin-recording-${program}`)
  const log = join(s.root, `${program}-argv`)
  mkdirSync(bin, { recursive: true })
  const real = execFileSync('sh', ['-c', `command -v ${program}`], { env: s.env, encoding: 'utf8' }).trim()
  const script = `#!/bin/sh\nprintf '${program} %s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`
  writeFileSync(join(bin, program), script, { mode: 0o755 })
  s.env.PATH = `${bin}:${s.env.PATH}`
  return log
}
