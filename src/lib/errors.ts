import { constants } from 'node:os'

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  pushFailed: 3,
  /** `--verify --strict`: the check found missing paths, or could not ask the cache. Not a push failure. */
  verifyFailed: 4,
  notFound: 127,
  interrupted: 130,
} as const

/** The one error type hms throws; `cli.ts` is the only place that turns it into a message and an exit. */
export class HmsError extends Error {
  readonly exitCode: number
  readonly hint?: string
  /** Set when hms stops because it received this signal. */
  readonly signal?: NodeJS.Signals
  /** A refusal no retry can change (wrong credentials, missing signature, unopenable store). */
  readonly permanent: boolean
  /** Under --json, the document to print for this error instead of the generic `{ error: … }` one. */
  readonly document?: unknown

  constructor(
    message: string,
    options: {
      exitCode?: number
      hint?: string
      signal?: NodeJS.Signals
      permanent?: boolean
      document?: unknown
    } = {},
  ) {
    super(message)
    this.name = 'HmsError'
    this.exitCode = options.exitCode ?? ExitCode.usage
    this.hint = options.hint
    this.signal = options.signal
    this.permanent = options.permanent ?? false
    this.document = options.document
  }
}

export function usageError(message: string, hint?: string): HmsError {
  return new HmsError(message, { exitCode: ExitCode.usage, hint })
}

/** What went wrong, for a one-line message: an Error's message, or whatever else was thrown, as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The `code` of a failed system call (`ENOENT`, `EACCES`…), if `error` is one. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined
}

/** Exit code of a process ended by `signal`, as shells report it. */
export function signalExitCode(signal: string | undefined): number | undefined {
  const n = signal ? constants.signals[signal as NodeJS.Signals] : undefined
  return n === undefined ? undefined : 128 + n
}
