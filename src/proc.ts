import { signalExitCode } from './errors.js'

export interface Outcome {
  exitCode: number
  /** The signal that killed the child, if one did. */
  signal?: string
  /** The signal hms itself received and passed on, if any. */
  interrupted?: NodeJS.Signals
}

type StdioSlot = 'inherit' | 'pipe' | 'ignore' | number

export interface RunOptions {
  env: Record<string, string | undefined>
  cwd: string
  stdio: [StdioSlot, StdioSlot, StdioSlot, ...StdioSlot[]]
  onStderr?: (chunk: Buffer) => void
  onStdout?: (chunk: Buffer) => void
}

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/**
 * Runs a child in its own process group and passes SIGINT/SIGTERM/SIGHUP to the whole group:
 * cachix ignores SIGINT while its command runs, so signalling cachix alone would not stop the build.
 * Whatever is left in the group once the child exits is ended too, so nothing outlives hms.
 */
export async function runGroup(file: string, args: string[], options: RunOptions): Promise<Outcome> {
  const { execa } = await import('execa')
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
  let interrupted: NodeJS.Signals | undefined
  const forward = (signal: NodeJS.Signals) => {
    interrupted ??= signal
    killGroup(child.pid, signal)
  }
  for (const signal of forwarded) process.on(signal, forward)
  if (options.onStderr) child.stderr?.on('data', options.onStderr)
  if (options.onStdout) child.stdout?.on('data', options.onStdout)
  try {
    const result = await child
    const signal = result.signal ?? undefined
    const exitCode = result.exitCode ?? signalExitCode(signal) ?? 1
    return { exitCode, ...(signal ? { signal } : {}), ...(interrupted ? { interrupted } : {}) }
  } finally {
    for (const signal of forwarded) process.off(signal, forward)
    await endStragglers(child.pid)
  }
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
