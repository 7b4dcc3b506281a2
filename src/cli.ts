import { hostname, userInfo } from 'node:os'
import type { Writable } from 'node:stream'
import pkg from '../package.json' with { type: 'json' }
import { parseArgs, subcommands, type ParsedArgs, type Subcommand } from './args.js'
import { ExitCode, HmsError } from './errors.js'
import { redacting } from './redact.js'

export interface Io {
  argv: string[]
  env: Record<string, string | undefined>
  cwd: string
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  hostname: string
  /** How to run hms again, for background pushes: node and this script. */
  self: string[]
}

/** The whole program, with the world passed in; returns the exit code. */
export async function run(world: Io): Promise<number> {
  const io = { ...world, stdout: redacting(world.stdout), stderr: redacting(world.stderr) }
  try {
    const args = parseArgs(io.argv)
    if (args.options.version) return write(io.stdout, `hms ${pkg.version}\n`)
    if (args.options.help || args.command === 'help') return write(io.stdout, `${(await import('./help.js')).helpText(helpTopic(args))}\n`)
    const { commands } = await import('./commands/index.js')
    const command = (await commands[args.command as Exclude<typeof args.command, 'help'>]()).default
    return await command(args, io, { version: pkg.version })
  } catch (error) {
    return report(error, io)
  }
}

/** `hms help push`, `hms push --help`, or the overview. */
function helpTopic(args: ParsedArgs): Subcommand | undefined {
  if (args.command !== 'help') return args.command === 'switch' && !args.options.help ? undefined : args.command
  const topic = args.positionals[0]
  return (subcommands as readonly string[]).includes(topic ?? '') ? (topic as Subcommand) : undefined
}

function report(error: unknown, io: Io): number {
  if (error instanceof HmsError) {
    io.stderr.write(`hms: ${error.message}${error.hint ? ` — ${error.hint}` : ''}\n`)
    return error.exitCode
  }
  const message = error instanceof Error ? error.message : String(error)
  io.stderr.write(`hms: unexpected error: ${message.split('\n')[0]} — please report it with the command you ran\n`)
  return ExitCode.failure
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
  // `hms --json | head -1` closes stdout early; that is not hms's failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error })
  const code = await run({ argv: process.argv.slice(2), env: withHome(process.env), cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, hostname: hostname(), self: [process.execPath, process.argv[1]!] })
  process.exitCode = code
}
