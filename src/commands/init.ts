import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import type { Io } from './command.js'
import { configPath } from '../state/config-file.js'
import { ExitCode, HmsError, messageOf, usageError } from '../lib/errors.js'
import { hasValues, initConfig, proposals, specExample, type InitValues, type Machine } from '../plan/init.js'
import { writeAtomic } from '../state/state.js'
import type { Command } from './command.js'

/** Io carries no stdin yet; tests hand one in, the real run uses the process's. */
type InitIo = Io & { stdin?: Readable & { isTTY?: boolean } }

const init: Command = async (args, io: InitIo) => {
  const { options } = args
  const file = configPath(io.env)
  if (existsSync(file) && !options.force) {
    throw new HmsError(`${file} already exists`, { exitCode: ExitCode.failure, hint: 'pass --force to overwrite it' })
  }
  const machine: Machine = {
    hostname: io.hostname,
    cwd: io.cwd,
    env: io.env,
    hasFlake: existsSync(join(io.cwd, 'flake.nix')),
  }
  const flags: InitValues = {
    cache: options.cache,
    flake: options.flake,
    user: options.user,
    profileSpecs: options.profileSpecs,
  }
  const values = hasValues(flags) ? flags : await prompt(io, machine)
  const config = initConfig(values, machine)
  writeAtomically(file, `${JSON.stringify(config, null, 2)}\n`)
  if (!options.quiet) io.stderr.write(`✔ wrote ${file}\n  next: hms doctor, then hms --plan\n`)
  return ExitCode.ok
}

export default init

async function prompt(io: InitIo, machine: Machine): Promise<InitValues> {
  const stdin = io.stdin ?? process.stdin
  if (!stdin.isTTY) {
    throw usageError(
      'hms init needs flags when not run on a terminal',
      `e.g. hms init --cache my-cache --flake ~/ws --profile ${specExample}`,
    )
  }
  const { openPrompt } = await import('../ui/prompt.js')
  const questions = openPrompt(stdin, io.stderr)
  const ask = async (question: string, proposal?: string) => {
    const line = await questions.ask(`${question}${proposal ? ` [${proposal}]` : ''}: `)
    if (line === undefined) {
      const exitCode = questions.interrupted ? ExitCode.interrupted : ExitCode.failure
      throw new HmsError('hms init cancelled; nothing written', { exitCode })
    }
    return line.trim() || proposal || ''
  }
  try {
    const p = proposals(machine)
    io.stderr.write(`hms init writes ${configPath(io.env)}. Enter keeps the value in brackets.\n`)
    let cache = ''
    for (let i = 0; i < 3 && !cache; i++)
      cache = await ask('Cache (a Cachix name, or a store URL such as file:///mnt/nas/nix-cache)')
    const user = await ask('User in the flake attribute user@host', p.user)
    const flake = await ask('Flake with your homeConfigurations (- for none)', p.flake)
    const profile = await ask("This host's profile name", p.profile)
    const hosts = await ask(`Hosts of profile ${profile}, comma-separated`, p.hosts)
    return {
      cache,
      user: user || undefined,
      flake: flake && flake !== '-' ? flake : undefined,
      profileSpecs: [`${profile}=${hosts}`],
    }
  } finally {
    questions.close()
  }
}

/** Temp file and rename in the same directory: a crash never leaves half a config behind. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true })
  try {
    writeAtomic(file, text)
  } catch (error) {
    throw new HmsError(`cannot write ${file}: ${messageOf(error)}`, { exitCode: ExitCode.failure })
  }
}
