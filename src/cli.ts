import { hostname } from 'node:os'
import type { Writable } from 'node:stream'
import pkg from '../package.json' with { type: 'json' }
import { parseArgs, type ParsedArgs } from './args.js'
import { ExitCode, HmsError } from './errors.js'

export interface Io {
  argv: string[]
  env: Record<string, string | undefined>
  cwd: string
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  hostname: string
}

/** The whole program, with the world passed in; returns the exit code. */
export async function run(io: Io): Promise<number> {
  try {
    const args = parseArgs(io.argv)
    if (args.options.version) return write(io.stdout, `hms ${pkg.version}\n`)
    if (args.options.help || args.command === 'help') return write(io.stdout, `${(await import('./help.js')).helpText()}\n`)
    return await dispatch(args, io)
  } catch (error) {
    return report(error, io)
  }
}

async function dispatch(args: ParsedArgs, io: Io): Promise<number> {
  switch (args.command) {
    case 'switch':
      return (await import('./commands/switch.js')).switchCommand(args, io, pkg.version)
    default:
      throw new HmsError(`"hms ${args.command}" is not available yet`, { exitCode: ExitCode.usage })
  }
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

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/bin/hms.js')
if (isMain) {
  // `hms --json | head -1` closes stdout early; that is not hms's failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error })
  const code = await run({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, hostname: hostname() })
  process.exitCode = code
}
