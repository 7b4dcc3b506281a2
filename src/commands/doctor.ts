import { accessSync, constants } from 'node:fs'
import pkg from '../../package.json' with { type: 'json' }
import type { Io } from './command.js'
import { loadConfig } from '../state/config-file.js'
import {
  checks,
  doctorContext,
  failed,
  runChecks,
  type CheckReport,
  type Status,
  type World,
} from '../doctor/checks.js'
import { ExitCode } from '../lib/errors.js'
import { colorLevel } from '../ui/output.js'
import { recoverInflightQuietly } from '../state/inflight.js'
import { which } from '../lib/which.js'
import { State } from '../state/state.js'
import { capture } from '../lib/process.js'
import { backendFor } from '../backends/for-target.js'
import { writeDocument } from '../lib/streams.js'
import { outputFor, type Command } from './command.js'

const doctor: Command = async (args, io) => {
  const { options } = args
  // A switch killed mid-push left a marker: queue its generation first, so the pending check tells the truth.
  const { quiet, verbose, json } = options
  const out = await outputFor(io, { quiet, verbose, json })
  await recoverInflightQuietly(new State(io.env), io.env, out)
  const ctx = await doctorContext({ options, env: io.env, hostname: io.hostname }, () => loadConfig(io.env))
  const reports = await runChecks(checks, ctx, realWorld(io))
  const exitCode = failed(reports) ? ExitCode.failure : ExitCode.ok
  if (options.json) writeDocument(io.stdout, { version: pkg.version, ok: exitCode === 0, checks: reports, exitCode })
  else await print(reports, io, options.quiet)
  return exitCode
}

export default doctor

async function print(reports: CheckReport[], io: Io, quiet: boolean): Promise<void> {
  const { Chalk } = await import('chalk')
  const color = new Chalk({ level: colorLevel(io.env, Boolean(io.stdout.isTTY)) })
  const marks: Record<Status, string> = {
    ok: color.green('✔'),
    fail: color.red('✖'),
    warn: color.yellow('!'),
    skip: color.dim('!'),
  }
  const width = Math.max(...reports.map((r) => r.title.length)) + 1
  const shown = quiet ? reports.filter((r) => r.status === 'fail' || r.status === 'warn') : reports
  const lines = shown.map(
    (r) => `${marks[r.status]} ${`${r.title}:`.padEnd(width + 1)}${r.message}${r.fix ? color.dim(` — ${r.fix}`) : ''}`,
  )
  const problems = reports.filter((r) => r.status === 'fail').length
  const warnings = reports.filter((r) => r.status === 'warn').length
  if (!quiet || problems)
    lines.push(
      '',
      problems
        ? `${problems} problem${problems > 1 ? 's' : ''} found`
        : `all good${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`,
    )
  if (lines.length) io.stdout.write(`${lines.join('\n')}\n`)
}

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode)
    return true
  } catch {
    return false
  }
}

function realWorld(io: Io): World {
  return {
    which: (command) => which(command, io.env),
    exec: (file, args, timeoutMs) => capture(file, args, { env: io.env, cwd: io.cwd, timeoutMs }),
    backend: backendFor,
    writable: (path) => can(path, constants.W_OK),
    readable: (path) => can(path, constants.R_OK),
    pending: () => new State(io.env).readPending(),
  }
}
