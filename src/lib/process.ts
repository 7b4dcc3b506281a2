import { spawn, type ChildProcess } from 'node:child_process'
import { HmsError, signalExitCode } from './errors.js'
import { interruptedOnTerminal } from './fresh-line.js'
import { descendants, markerVariable, procOf, stragglers, table } from './process-table.js'
import type { Env } from './env.js'

export interface Outcome {
  exitCode: number
  /** The signal that killed the child, if one did. */
  signal?: string
  /** The signal hms itself received while the child ran, if any. */
  interrupted?: NodeJS.Signals
  /** How many signals hms received while the child ran: a second Ctrl-C may have cut short what the first spared. */
  signals?: number
}

type StdioSlot = 'inherit' | 'pipe' | 'ignore' | number

export interface RunOptions {
  env: Env
  cwd: string
  stdio: [StdioSlot, StdioSlot, StdioSlot, ...StdioSlot[]]
  onStderr?: (chunk: Buffer) => void
  onStdout?: (chunk: Buffer) => void
  /**
   * The child ignores SIGINT while its command runs and pushes after it (cachix watch-exec,
   * delegate_ctlc): the first SIGINT is passed only to what it runs. Passed to the child itself,
   * it would land once the command is gone and cut short the push of what was built.
   */
  delegatesCtlc?: boolean
}

const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
/** Children in hms's own process group (see runForeground), by pid, with the marker they carry. */
const attached = new Map<number, string>()
/** Attached children that delegate Ctrl-C to their command (RunOptions.delegatesCtlc). */
const delegating = new Set<number>()
let runs = 0
/** Captured children, each the leader of a process group of its own. */
const groups = new Set<number>()
/** Children being started or awaited: the signal handlers stay installed while any is. */
let active = 0
/** Every signal received, in order: a run compares counts, so a second Ctrl-C counts too. */
const received: NodeJS.Signals[] = []

function onSignal(signal: NodeJS.Signals): void {
  received.push(signal)
  if (signal === 'SIGINT') interruptedOnTerminal()
  for (const pid of groups) killGroup(pid, signal)
  const running = new Map(attached)
  if (running.size === 0) return
  if (signal === 'SIGINT' && fromTerminal()) {
    // Ctrl-C reached the whole foreground group, the children too: passing it on would deliver it
    // twice. Were it a `kill -INT` aimed at hms alone, they would still run: then it is passed on.
    setTimeout(() => signalTrees(running, signal), 2000).unref()
  } else signalTrees(running, signal)
}

/** Is hms in its terminal's foreground process group (where the terminal sends Ctrl-C)? */
function fromTerminal(): boolean {
  const me = procOf(process.pid)
  return Boolean(me && me.tpgid > 0 && me.tpgid === me.pgrp)
}

/**
 * Sends `signal` to each child, everything below it and what it left in the group: cachix ignores
 * SIGINT, its command does not.
 */
function signalTrees(roots: Map<number, string>, signal: NodeJS.Signals): void {
  const rows = table()
  const targets = new Set<number>()
  for (const [pid, marker] of roots) {
    if (!attached.has(pid)) continue
    for (const p of descendants(rows, pid)) targets.add(p)
    for (const p of stragglers(rows, marker)) targets.add(p)
  }
  // Only a repeated Ctrl-C stops cachix's own push.
  if (signal === 'SIGINT' && received.filter((s) => s === 'SIGINT').length === 1)
    for (const pid of delegating) targets.delete(pid)
  for (const pid of targets) kill(pid, signal)
}

/** Keeps hms alive through SIGINT/SIGTERM/SIGHUP while `body` runs, and says which came first. */
async function guarded<T>(
  body: () => Promise<T>,
): Promise<{ result: T; interrupted?: NodeJS.Signals; signals: number }> {
  const before = received.length
  if (active++ === 0) for (const signal of handled) process.on(signal, onSignal)
  try {
    const result = await body()
    const interrupted = received.length > before ? received[before] : undefined
    return { result, ...(interrupted ? { interrupted } : {}), signals: received.length - before }
  } finally {
    if (--active === 0) for (const signal of handled) process.off(signal, onSignal)
  }
}

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  error?: NodeJS.ErrnoException
}

function ended(child: ChildProcess): Promise<Ended> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (error) => resolve({ code: null, signal: null, error }))
  })
}

/**
 * Once the child exited, its output is read to the end, but a descendant that left the group may
 * hold the pipes open for ever: after `ms` hms lets go of them.
 */
async function drained(child: ChildProcess, closed: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
  for (const stream of child.stdio) stream?.destroy()
}

/**
 * A long-running child (the switch, a push) in hms's own process group, as a shell runs a command:
 * in a terminal it is in the foreground group with the controlling terminal, so Ctrl-C, Ctrl-Z/fg
 * and /dev/tty prompts reach it (and hms) exactly as without hms. hms survives the signal, waits
 * for the child and reports how it ended; a signal sent to hms alone is passed on to the child's
 * processes. Whatever the child left running in the group is ended after it.
 */
export async function runForeground(file: string, args: string[], options: RunOptions): Promise<Outcome> {
  // What the child starts inherits the marker: that is how its leftovers are told from their neighbours.
  const marker = `${process.pid}.${++runs}`
  const { result, interrupted, signals } = await guarded(async () => {
    const env = { ...options.env, [markerVariable]: marker } as NodeJS.ProcessEnv
    const child = spawn(file, args, { env, cwd: options.cwd, stdio: options.stdio })
    const closed = new Promise((resolve) => child.once('close', resolve))
    if (child.pid) attached.set(child.pid, marker)
    if (child.pid && options.delegatesCtlc) delegating.add(child.pid)
    if (options.onStderr) child.stderr?.on('data', options.onStderr)
    if (options.onStdout) child.stdout?.on('data', options.onStdout)
    try {
      const end = await ended(child)
      if (child.pid) attached.delete(child.pid)
      await endStragglers(stragglers(table(), marker))
      await drained(child, closed, 2000)
      return end
    } finally {
      if (child.pid) {
        attached.delete(child.pid)
        delegating.delete(child.pid)
      }
    }
  })
  const signal = result.signal ?? undefined
  const exitCode = result.code ?? signalExitCode(signal) ?? (result.error?.code === 'ENOENT' ? 127 : 1)
  return { exitCode, ...(signal ? { signal } : {}), ...(interrupted ? { interrupted, signals } : {}) }
}

export interface Captured {
  exitCode: number
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface CaptureOptions {
  env: Env
  cwd?: string
  /** 0: none. Default 30 s. At the limit the child's whole process group is killed. */
  timeoutMs?: number
  /**
   * Run in hms's process group like the switch (`nix copy` to an ssh store may ask on /dev/tty,
   * and Ctrl-C must reach it), without a time limit.
   */
  attached?: boolean
  /** Also handed each chunk of stderr as it comes (a progress line to show while the child runs). */
  onStderr?: (chunk: Buffer) => void
}

/**
 * A child whose output hms reads (`cachix --version`, `nix-store --query`, `nix copy`…). A signal
 * to hms while it runs stops hms: the caller must not carry on as if it failed.
 */
export async function capture(file: string, args: string[], options: CaptureOptions): Promise<Captured> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  const collect = {
    onStdout: (c: Buffer) => void out.push(c),
    onStderr: (c: Buffer) => {
      err.push(c)
      options.onStderr?.(c)
    },
  }
  let exitCode: number
  let timedOut = false
  let interrupted: NodeJS.Signals | undefined
  if (options.attached) {
    const cwd = options.cwd ?? process.cwd()
    const stdio: RunOptions['stdio'] = ['ignore', 'pipe', 'pipe']
    const outcome = await runForeground(file, args, { env: options.env, cwd, stdio, ...collect })
    ;({ exitCode, interrupted } = outcome)
  } else {
    const run = await guarded(async () => {
      const ran = await inOwnGroup(file, args, options, collect)
      timedOut = ran.timedOut
      return ran.exitCode
    })
    ;({ result: exitCode, interrupted } = run)
  }
  if (interrupted) {
    const exitCode = signalExitCode(interrupted) ?? 130
    throw new HmsError(`interrupted by ${interrupted}`, { exitCode, signal: interrupted })
  }
  const text = (chunks: Buffer[]) =>
    Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '')
  return { exitCode, stdout: text(out), stderr: text(err), timedOut }
}

/** A short child leading its own process group, so a time limit ends it with all it started. */
async function inOwnGroup(
  file: string,
  args: string[],
  options: CaptureOptions,
  collect: Pick<RunOptions, 'onStdout' | 'onStderr'>,
): Promise<{ exitCode: number; timedOut: boolean }> {
  const env = options.env as NodeJS.ProcessEnv
  const child = spawn(file, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const closed = new Promise((resolve) => child.once('close', resolve))
  child.stdout?.on('data', collect.onStdout!)
  child.stderr?.on('data', collect.onStderr!)
  const pid = child.pid
  if (pid) groups.add(pid)
  let timedOut = false
  const limit = options.timeoutMs ?? 30_000
  const timer =
    limit > 0
      ? setTimeout(() => {
          timedOut = true
          killGroup(pid, 'SIGKILL')
        }, limit)
      : undefined
  try {
    const end = await ended(child)
    clearTimeout(timer)
    if (end.error) err(collect, end.error)
    await endGroup(pid)
    await drained(child, closed, timedOut ? 100 : 2000)
    return { exitCode: end.code ?? 1, timedOut }
  } finally {
    clearTimeout(timer)
    if (pid) groups.delete(pid)
  }
}

function err(collect: Pick<RunOptions, 'onStderr'>, error: NodeJS.ErrnoException): void {
  collect.onStderr?.(Buffer.from(error.message))
}

function kill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  return pid ? kill(-pid, signal) : false
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** SIGTERM, a second to go, then SIGKILL. */
async function endStragglers(pids: number[]): Promise<void> {
  if (pids.length === 0) return
  for (const pid of pids) kill(pid, 'SIGTERM')
  for (let i = 0; i < 20; i++) {
    await pause(50)
    if (!pids.some(alive)) return
  }
  for (const pid of pids) if (alive(pid)) kill(pid, 'SIGKILL')
}

function alive(pid: number): boolean {
  const p = procOf(pid)
  return Boolean(p && !p.zombie)
}

async function endGroup(pid: number | undefined): Promise<void> {
  if (!killGroup(pid, 'SIGTERM')) return
  for (let i = 0; i < 20; i++) {
    await pause(50)
    if (!killGroup(pid, 0)) return
  }
  killGroup(pid, 'SIGKILL')
}
