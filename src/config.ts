import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pkg from '../package.json' with { type: 'json' }
import { closest } from './closest.js'
import { HmsError } from './errors.js'
import { memo } from './memo.js'
import { storeUrlProblem, withoutCredentials } from './store-url.js'

export interface Profile {
  hosts: string[]
  cache?: string
}

export interface CacheEntry {
  url: string
  secretKeyFile?: string
}

export interface PushSettings {
  jobs?: number
  compressionMethod?: 'xz' | 'zstd'
  strict: boolean
  mode: 'watch-exec' | 'generation'
  autoRetry: boolean
  retries: number
  exclude: string[]
}

export interface Config {
  /** The file it came from, or undefined for the built-in defaults. */
  file?: string
  cache: string
  user?: string
  flake?: string
  profiles: Record<string, Profile>
  caches: Record<string, CacheEntry>
  push: PushSettings
  quotaBytes: number
}

export const defaultConfig: Config = {
  cache: 'modular-workspace',
  profiles: {
    shoshin: { hosts: ['shoshin'] },
    gyakusatsu: { hosts: ['gyakusatsu'] },
    kinoite: { hosts: ['kinoite'] },
  },
  caches: {},
  push: { strict: false, mode: 'watch-exec', autoRetry: true, retries: 2, exclude: [] },
  // Cachix's free tier.
  quotaBytes: 5 * 1024 ** 3,
}

type Env = Record<string, string | undefined>

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
  const stamp = validatedStamp(text)
  const seen = memo(env, 'config-validated')
  // zod costs ~30 ms at start-up; a config validated before, byte for byte and by this hms version, needs no second look.
  if (seen.get() === stamp) return mergeConfig(JSON.parse(text) as FileConfig, file)
  const config = await parseConfig(text, file)
  seen.set(stamp)
  return config
}

function validatedStamp(text: string): string {
  return createHash('sha256').update(`${pkg.version}\0${text}`).digest('hex')
}


function readConfigText(file: string, explicit: boolean): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !explicit) return undefined
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? error)
    throw new HmsError(`cannot read config ${file}: ${reason}`, { hint: 'fix the file or point HMS_CONFIG elsewhere' })
  }
}

export async function parseConfig(text: string, file: string): Promise<Config> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new HmsError(`invalid JSON in ${file}: ${(error as Error).message}`, { hint: 'check the file with: jq . ' + file })
  }
  const schema = await import('./schema.js')
  const result = schema.configSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const guess = issue.code === 'unrecognized_keys' ? closest(String(issue.keys?.[0]), schema.keysAt(issue.path)) : undefined
    throw new HmsError(`invalid config ${file}: ${describeIssue(issue)}`, { hint: guess ? `did you mean "${guess}"?` : 'see "Config file" in the README' })
  }
  checkUrls(result.data, file)
  return mergeConfig(result.data, file)
}

/** Every store URL in the file, checked now rather than when a push to it fails (store-url.ts). */
function checkUrls(data: FileConfig, file: string): void {
  const refs: [string, string][] = [
    ...Object.entries(data.caches ?? {}).map(([name, c]): [string, string] => [`caches.${name}.url`, c.url]),
    ...(data.cache ? [['cache', data.cache] as [string, string]] : []),
    ...Object.entries(data.profiles ?? {}).flatMap(([name, p]): [string, string][] => (p.cache ? [[`profiles.${name}.cache`, p.cache]] : [])),
  ]
  for (const [at, url] of refs) {
    if (!url.includes('://')) continue
    const problem = storeUrlProblem(url)
    if (problem) throw new HmsError(`invalid config ${file}: ${at} "${withoutCredentials(url)}" ${problem.message}`, { hint: problem.hint })
  }
}

interface Issue {
  path: PropertyKey[]
  message: string
  code: string
  keys?: string[]
}

function describeIssue(issue: Issue): string {
  const at = issue.path.length ? issue.path.map(String).join('.') : 'top level'
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    const where = issue.path.length ? `${at}.` : ''
    return `unknown key "${where}${issue.keys[0]}"`
  }
  return `${at}: ${issue.message}`
}

type FileConfig = Awaited<ReturnType<typeof import('./schema.js')['configSchema']['parse']>>

/** Defaults, then the file; each top-level key of the file replaces the default whole. */
function mergeConfig(file: FileConfig, path: string): Config {
  const profiles = file.profiles
    ? Object.fromEntries(Object.entries(file.profiles).map(([name, p]) => [name, { hosts: p.hosts ?? [name], cache: p.cache }]))
    : defaultConfig.profiles
  return {
    file: path,
    cache: file.cache ?? defaultConfig.cache,
    user: file.user,
    flake: file.flake,
    profiles,
    caches: file.caches ?? {},
    push: { ...defaultConfig.push, ...stripUndefined(file.push ?? {}) },
    quotaBytes: file.quotaBytes ?? defaultConfig.quotaBytes,
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
