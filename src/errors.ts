export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  pushFailed: 3,
  notFound: 127,
  interrupted: 130,
} as const

/** The one error type hms throws; `cli.ts` is the only place that turns it into a message and an exit. */
export class HmsError extends Error {
  readonly exitCode: number
  readonly hint?: string

  constructor(message: string, options: { exitCode?: number; hint?: string } = {}) {
    super(message)
    this.name = 'HmsError'
    this.exitCode = options.exitCode ?? ExitCode.usage
    this.hint = options.hint
  }
}

export function usageError(message: string, hint?: string): HmsError {
  return new HmsError(message, { exitCode: ExitCode.usage, hint })
}

/** Exit code of a process ended by `signal`, as shells report it. */
export function signalExitCode(signal: string | undefined): number | undefined {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 }
  const n = signal ? numbers[signal] : undefined
  return n === undefined ? undefined : 128 + n
}
