import { closest } from '../lib/closest.js'
import { isOneOf } from '../lib/one-of.js'
import { candidatesOf, completionModel, completionScript, shells, type Shell } from '../cli/completion.js'
import { defaultConfig, type Config } from '../plan/config.js'
import { loadConfig } from '../state/config-file.js'
import { ExitCode, HmsError, usageError } from '../lib/errors.js'
import type { Command } from './command.js'

const completion: Command = async (args, io, { version }) => {
  const shell = shellOf(args.positionals)
  const config = await configOrDefaults(io.env, (warning) => io.stderr.write(`hms: ${warning}\n`))
  io.stdout.write(completionScript(shell, completionModel(candidatesOf(config, io.env)), version))
  return ExitCode.ok
}

export default completion

function shellOf(positionals: string[]): Shell {
  const [word, extra] = positionals
  if (!word) throw usageError('hms completion needs a shell', `hms completion ${shells.join('|')}`)
  if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`, `hms completion ${shells.join('|')}`)
  if (isOneOf(shells, word)) return word
  const guess = closest(word, shells)
  throw usageError(
    `no completion for shell "${word}"`,
    guess ? `did you mean "hms completion ${guess}"?` : `shells: ${shells.join(', ')}`,
  )
}

/** Usually run from a shell's start-up file: a broken config should cost the profile names, not the shell's start. */
async function configOrDefaults(
  env: Record<string, string | undefined>,
  warn: (text: string) => void,
): Promise<Config> {
  try {
    return await loadConfig(env)
  } catch (error) {
    if (!(error instanceof HmsError)) throw error
    warn(`${error.message}; completing without its profiles`)
    return { ...defaultConfig, profiles: {} }
  }
}
