import type { ChalkInstance } from 'chalk'
import type { Ora } from 'ora'
import type { Writable } from 'node:stream'
import { spinnerOnScreen } from '../lib/fresh-line.js'
import { writeDocument, writeFailure } from '../lib/streams.js'

export interface OutputOptions {
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: Record<string, string | undefined>
  quiet: boolean
  verbose: boolean
  json: boolean
}

/** The colours hms uses; chalk provides them on a colour terminal. */
export type Colors = Pick<ChalkInstance, 'dim' | 'green' | 'red' | 'yellow'>
const same = (text: unknown) => String(text)
const plain = { dim: same, green: same, red: same, yellow: same } as unknown as Colors

/** Colour level from NO_COLOR / FORCE_COLOR / the terminal, decided once. */
export function colorLevel(env: Record<string, string | undefined>, isTTY: boolean): 0 | 1 {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '')
    return env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false' ? 0 : 1
  if (env.NO_COLOR) return 0
  return isTTY && env.TERM !== 'dumb' ? 1 : 0
}

/** The colours for what is written to `stream`: only on a terminal, unless NO_COLOR / FORCE_COLOR say otherwise. */
export async function colorsFor(env: Record<string, string | undefined>, stream: { isTTY?: boolean }): Promise<Colors> {
  const level = colorLevel(env, Boolean(stream.isTTY))
  // Without colour (pipes, CI, NO_COLOR) chalk is not even loaded: start-up time counts.
  if (level === 0) return plain
  const { Chalk } = await import('chalk')
  return new Chalk({ level })
}

/** Everything hms itself says goes to stderr; stdout belongs to home-manager, or to the JSON summary. */
export class Output {
  readonly color: Colors
  private spinner?: Ora
  private spinnerText = ''
  /** Counts stopProgress calls: a spinner still loading when one happens never starts. */
  private epoch = 0

  private constructor(
    readonly options: OutputOptions,
    color: Colors,
  ) {
    this.color = color
  }

  static async create(options: OutputOptions): Promise<Output> {
    return new Output(options, await colorsFor(options.env, options.stderr))
  }

  get interactive(): boolean {
    const { stderr, env, quiet, json } = this.options
    // A terminal that reports 0 columns (a bare pty, `script`) would make ora's line count infinite.
    const columns = (stderr as { columns?: number }).columns ?? 0
    return Boolean(stderr.isTTY) && columns > 0 && !env.CI && !quiet && !json
  }

  info(line: string): void {
    if (!this.options.quiet) this.line(line)
  }

  detail(line: string): void {
    if (this.options.verbose && !this.options.quiet) this.line(this.color.dim(line))
  }

  warn(line: string): void {
    this.line(`${this.color.yellow('!')} ${line}`)
  }

  error(line: string): void {
    this.line(`${this.color.red('✖')} ${line}`)
  }

  /** Bytes from a child that hms did not understand: passed on unchanged. */
  raw(bytes: Buffer): void {
    this.pauseSpinner()
    this.options.stderr.write(bytes)
    this.resumeSpinner()
  }

  /**
   * Spinner text, built only on a terminal: without one, a push of 100 000 paths must not format
   * 100 000 lines. Callers show it only while nothing else writes to the terminal.
   */
  async progress(describe: () => string): Promise<void> {
    if (!this.interactive) return
    this.spinnerText = describe()
    if (this.spinner) {
      this.spinner.text = this.spinnerText
      return
    }
    const epoch = this.epoch
    const { default: ora } = await import('ora')
    // Stopped while ora loaded (cachix reported and exited at once): starting now would spin after the summary.
    if (epoch !== this.epoch) return
    // discardStdin would put the terminal in raw mode: Ctrl-C and Ctrl-Z would no longer reach anyone.
    this.spinner ??= ora({ stream: this.options.stderr, text: this.spinnerText, discardStdin: false }).start()
    spinnerOnScreen(true)
    this.spinner.text = this.spinnerText
  }

  stopProgress(): void {
    this.epoch++
    if (!this.spinner) return
    this.spinner.stop()
    this.spinner = undefined
    spinnerOnScreen(false)
  }

  /**
   * Where home-manager's stdout goes: to stderr under --json (stdout carries the summary), straight
   * to a terminal, else through hms (`relay`), so a reader that goes away cannot kill the activation.
   */
  get childStdout(): 'inherit' | 'pipe' | 2 {
    if (this.options.json) return 2
    return this.options.stdout.isTTY ? 'inherit' : 'pipe'
  }

  /** home-manager's stdout, passed on while stdout can be written, then read and dropped. */
  readonly relay = (chunk: Buffer): void => {
    if (!writeFailure(this.options.stdout)) this.options.stdout.write(chunk)
  }

  json(document: unknown): void {
    writeDocument(this.options.stdout, document)
  }

  line(text: string): void {
    this.pauseSpinner()
    this.options.stderr.write(`${text}\n`)
    this.resumeSpinner()
  }

  private pauseSpinner(): void {
    this.spinner?.clear()
  }

  private resumeSpinner(): void {
    if (this.spinner) this.spinner.text = this.spinnerText
  }
}
