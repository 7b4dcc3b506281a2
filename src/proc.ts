import { HmsError, signalExitCode } from './errors.js'

export interface Outcome {
  exitCode: number
  /** The signal that killed the child, if one did. */
  signal?: string
  /** The signal hms itself received and passed on, if any. */
  interrupted?: NodeJS.Signals
}

type StdioSlot = 'inherit' | 'pipe' | 'ignore' | number
type Env = Record<string, string | undefined>

export interface RunOptions {
  env: Env
  cwd: string
  stdio: [StdioSlot, StdioSlot, StdioSlot, ...StdioSlot[]]
  onStderr?: (chunk: Buffer) => void
  onStdout?: (chunk: Buffer) => void
}

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
/** Process groups of the children now running; a signal to hms goes to all of them. */
const groups = new Set<number>()
/** Children being started or awaited: the signal handlers stay installed while any is. */
let active = 0
/** Every signal received, in order: a run compares counts, so a second Ctrl-C counts too. */
const received: NodeJS.Signals[] = []

function forward(signal: NodeJS.Signals): void {
  received.push(signal)
  for (const pid of groups) killGroup(pid, signal)
}

/**
 * Every child runs in its own process group, and while any runs hms passes SIGINT/SIGTERM/SIGHUP
 * to each whole group: cachix ignores SIGINT while its command runs, so signalling cachix alone
 * would not stop the build, and a shell script's children would outlive it. With no child
 * running, a signal ends hms the default way.
 */
async function inGroup<T>(start: () => { pid?: number } & PromiseLike<T>): Promise<{ result: T; interrupted?: NodeJS.Signals }> {
  const before = received.length
  if (active++ === 0) for (const signal of forwarded) process.on(signal, forward)
  let pid: number | undefined
  try {
    const child = start()
    pid = child.pid
    if (pid) groups.add(pid)
    const result = await child
    const interrupted = received.length > before ? received[before] : undefined
    return { result, ...(interrupted ? { interrupted } : {}) }
  } finally {
    if (pid) groups.delete(pid)
    if (--active === 0) for (const signal of forwarded) process.off(signal, forward)
    await endStragglers(pid)
  }
}

/** A long-running child (the switch, a push) whose output streams where `stdio` says. */
export async function runGroup(file: string, args: string[], options: RunOptions): Promise<Outcome> {
  const { execa } = await import('execa')
  const { result, interrupted } = await inGroup(() => {
    const child = execa(file, args, {
      env: options.env,
      extendEnv: false,
      cwd: options.cwd,
      // execa's types allow fd numbers only in some slots; node accepts any inherited descriptor in each.
      stdio: options.stdio as unknown as ['pipe', 'pipe', 'pipe'],
      detached: true,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
    })
    if (options.onStderr) child.stderr?.on('data', options.onStderr)
    if (options.onStdout) child.stdout?.on('data', options.onStdout)
    return child
  })
  const signal = result.signal ?? undefined
  const exitCode = result.exitCode ?? signalExitCode(signal) ?? 1
  return { exitCode, ...(signal ? { signal } : {}), ...(interrupted ? { interrupted } : {}) }
}

export interface Captured {
  exitCode: number
  stdout: string
  stderr: string
  timedOut: boolean
}

/**
 * A short child whose output hms reads (`cachix --version`, `nix-store --query`…), bounded by a
 * timeout. A signal to hms while it runs stops hms: the caller must not carry on as if it failed.
 */
export async function capture(file: string, args: string[], options: { env: Env; cwd?: string; timeoutMs?: number }): Promise<Captured> {
  const { execa } = await import('execa')
  const { result, interrupted } = await inGroup(() =>
    execa(file, args, { env: options.env, extendEnv: false, cwd: options.cwd, reject: false, stdin: 'ignore', detached: true, timeout: options.timeoutMs ?? 30_000 }),
  )
  if (interrupted) throw new HmsError(`interrupted by ${interrupted}`, { exitCode: signalExitCode(interrupted) ?? 130, signal: interrupted })
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr, timedOut: Boolean(result.timedOut) }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (!pid) return false
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

async function endStragglers(pid: number | undefined): Promise<void> {
  if (!killGroup(pid, 'SIGTERM')) return
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    if (!killGroup(pid, 0)) return
  }
  killGroup(pid, 'SIGKILL')
}
