import { signalExitCode } from './errors.js'
import { interruptedOnTerminal } from './fresh-line.js'

/**
 * Signals over a whole run (a switch, a push), not only while a child runs: Ctrl-C or SIGTERM
 * during a retry back-off or between two state writes must still end in the summary, the queue
 * written and exit 128+N, never in node's default death. proc.ts passes the signal on to the
 * running child; this module only remembers it and wakes whatever waits.
 */
const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
let controller = new AbortController()
let first: NodeJS.Signals | undefined

function onSignal(signal: NodeJS.Signals): void {
  if (signal === 'SIGINT') interruptedOnTerminal()
  if (first) return
  first = signal
  controller.abort(signal)
}

/** Runs `work` with the handlers installed; they are removed when it ends, whatever happens. */
export async function withRunSignals<T>(work: () => Promise<T>): Promise<T> {
  for (const signal of handled) process.on(signal, onSignal)
  try {
    return await work()
  } finally {
    for (const signal of handled) process.off(signal, onSignal)
  }
}

/** The first signal this run received, if any. */
export function interruption(): NodeJS.Signals | undefined {
  return first
}

/** Aborted at the run's first signal: waits listen to it. */
export function interruptSignal(): AbortSignal {
  return controller.signal
}

/** Exit code for a run that was interrupted: 128+N of its first signal. */
export function interruptedExitCode(): number | undefined {
  return first ? signalExitCode(first) : undefined
}

/** Waits `ms`, or less if a signal comes; says which signal cut it short. */
export function pause(ms: number): Promise<NodeJS.Signals | undefined> {
  const signal = controller.signal
  if (signal.aborted) return Promise.resolve(first)
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve(first)
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** For tests that run hms in-process more than once. */
export function resetInterruption(): void {
  first = undefined
  controller = new AbortController()
}
