import { hostname, userInfo } from 'node:os'
import type { Writable } from 'node:stream'
import pkg from '../package.json' with { type: 'json' }
import type { ParsedArgs, Subcommand } from './plan/options.js'
import { ExitCode, HmsError, messageOf, usageError } from './lib/errors.js'
import { freshLine } from './lib/fresh-line.js'
import { redacting } from './lib/redact.js'
import type { Io } from './commands/command.js'
import type { ErrorDocument } from './plan/schema.js'
import { describeFailure, flushed, hasDocument, watchWrites, writeDocument, writeFailure } from './lib/streams.js'
import { isOneOf } from './lib/one-of.js'

/** The whole program, with the world passed in; returns the exit code. */
export async function run(world: Io): Promise<number> {
  for (const stream of [world.stdout, world.stderr]) watchWrites(stream)
  const io = { ...world, stdout: redacting(world.stdout), stderr: freshLine(redacting(world.stderr)) }
  let args: ParsedArgs | undefined
  let code: number
  try {
    // `hms --version` alone needs no parser: commander and the command tree load for everything else.
    if (io.argv.length === 1 && ['--version', '-V'].includes(io.argv[0]!)) return afterWrites(version(io), io)
    args = (await import('./cli/args.js')).parseArgs(io.argv)
    code = await dispatch(args, io)
  } catch (error) {
    code = report(error, io, args)
  }
  return afterWrites(code, io)
}

async function dispatch(args: ParsedArgs, io: Io): Promise<number> {
  if (args.options.version) return version(io)
  if (args.options.help || args.command === 'help') {
    const { helpText } = await import('./cli/help.js')
    return write(io.stdout, `${helpText(await helpTopic(args))}\n`)
  }
  const { commands } = await import('./commands/index.js')
  const command = (await commands[args.command as Exclude<typeof args.command, 'help'>]()).default
  return await command(args, io, { version: pkg.version })
}

/** `hms help push`, `hms push --help`, or the overview. */
async function helpTopic(args: ParsedArgs): Promise<Subcommand | undefined> {
  if (args.command !== 'help') return args.command === 'switch' && !args.options.help ? undefined : args.command
  const { subcommands } = await import('./cli/command-tree.js')
  const topic = args.positionals[0]
  if (topic === undefined || isOneOf(subcommands, topic)) return topic
  const { closest } = await import('./lib/closest.js')
  const guess = closest(topic, subcommands)
  throw usageError(
    `no help for "${topic}": not an hms command`,
    guess ? `did you mean "hms help ${guess}"?` : `commands: ${subcommands.join(', ')}`,
  )
}

const version = (io: Io): number => write(io.stdout, `hms ${pkg.version}\n`)

/** One line on stderr; with --json also the one document on stdout, so a script always gets one. */
function report(error: unknown, io: Io, args: ParsedArgs | undefined): number {
  const known = error instanceof HmsError
  const text = messageOf(error)
  const message = known ? error.message : `unexpected error: ${text.split('\n')[0]}`
  const hint = known ? error.hint : 'please report it with the command you ran'
  const exitCode = known ? error.exitCode : ExitCode.failure
  io.stderr.write(`hms: ${message}${hint ? ` — ${hint}` : ''}\n`)
  if ((args?.options.json ?? wantsJson(io.argv)) && !hasDocument(io.stdout)) {
    const generic: ErrorDocument = {
      version: pkg.version,
      command: args?.command ?? null,
      error: { message, hint: hint ?? null },
      exitCode,
    }
    const document = known && error.document !== undefined ? error.document : generic
    writeDocument(io.stdout, document)
  }
  return exitCode
}

/** --json among hms's own arguments (before `--`), for errors found while reading them. */
function wantsJson(argv: string[]): boolean {
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv
  return own.includes('--json')
}

/**
 * Output that could not be written (`hms | head -1`, `> /dev/full`, a closed terminal) is said in
 * one line at the very end, never earlier (the switch goes on), and the exit code is not 0.
 */
async function afterWrites(code: number, io: Io): Promise<number> {
  await flushed()
  const lost = writeFailure(io.stdout)
  if (lost) io.stderr.write(`hms: could not write to stdout (${describeFailure(lost)}); output was lost\n`)
  const failed = lost ?? writeFailure(io.stderr)
  return failed && code === ExitCode.ok ? ExitCode.failure : code
}

function write(stream: Writable, text: string): number {
  stream.write(text)
  return ExitCode.ok
}

/** Paths and the flake attribute start at HOME and USER; when unset (cron, some service managers) ask the system. */
function withHome(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  if (env.HOME && (env.USER || env.LOGNAME)) return env
  try {
    const user = userInfo()
    return { ...env, HOME: env.HOME || user.homedir, USER: env.USER || env.LOGNAME || user.username }
  } catch {
    return env
  }
}

/** The real world: bin/hms.js calls this, whatever name or link it was started through. */
export async function main(): Promise<void> {
  const code = await run({
    argv: process.argv.slice(2),
    env: withHome(process.env),
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    hostname: hostname(),
    self: [process.execPath, process.argv[1]!],
  })
  process.exitCode = code
}
