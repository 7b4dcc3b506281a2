import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pkg from '../../package.json' with { type: 'json' }
import { errnoCode, HmsError } from '../lib/errors.js'
import { fingerprint } from '../lib/fingerprint.js'
import { memo } from '../lib/memo.js'
import { defaultConfig, mergeConfig, parseConfig, type Config } from '../plan/config.js'
import type { ConfigFile } from '../plan/schema.js'
import type { Env } from '../lib/env.js'

export function configPath(env: Env): string {
  if (env.HMS_CONFIG) return env.HMS_CONFIG
  const base = env.XDG_CONFIG_HOME || join(env.HOME ?? '', '.config')
  return join(base, 'hms', 'config.json')
}

/** Reads and validates the config file; a missing default file means the built-in defaults. */
export async function loadConfig(env: Env): Promise<Config> {
  const file = configPath(env)
  const text = readConfigText(file, Boolean(env.HMS_CONFIG))
  if (text === undefined) return defaultConfig
  // This hms version and these bytes: a new version may check more.
  const stamp = fingerprint(`${pkg.version}\0${text}`)
  const seen = memo(env, 'config-validated')
  // zod costs ~30 ms at start-up; a config validated before, byte for byte and by this hms version, needs no second
  // look.
  if (seen.get() === stamp) return mergeConfig(JSON.parse(text) as ConfigFile, file)
  const config = await parseConfig(text, file)
  seen.set(stamp)
  return config
}

function readConfigText(file: string, explicit: boolean): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = errnoCode(error)
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !explicit) return undefined
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String(code ?? error)
    throw new HmsError(`cannot read config ${file}: ${reason}`, { hint: 'fix the file or point HMS_CONFIG elsewhere' })
  }
}
