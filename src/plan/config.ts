import { closest } from '../lib/closest.js'
import { HmsError, messageOf } from '../lib/errors.js'
import type { z } from 'zod'
import type { CacheFile, ConfigFile, ProfileFile, PushFile } from './schema.js'
import { storeUrlProblem, withoutCredentials } from './store-url.js'

/** A profile once read: the hosts default to its name (mergeConfig). */
export type Profile = Required<Pick<ProfileFile, 'hosts'>> & Pick<ProfileFile, 'cache'>

export type CacheEntry = CacheFile

/** `push` in effect: the file's settings over the defaults; only jobs and compression may stay unset. */
export type PushSettings = Required<Omit<PushFile, 'jobs' | 'compressionMethod'>> &
  Pick<PushFile, 'jobs' | 'compressionMethod'>

/** The settings in effect: the file's (schema.ts) over the defaults; what has a default is always set. */
export type Config = Pick<ConfigFile, 'user' | 'flake'> &
  Required<Pick<ConfigFile, 'cache' | 'caches' | 'quotaBytes'>> & {
    /** The file it came from, or undefined for the built-in defaults. */
    file?: string
    profiles: Record<string, Profile>
    push: PushSettings
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

export async function parseConfig(text: string, file: string): Promise<Config> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new HmsError(`invalid JSON in ${file}: ${messageOf(error)}`, { hint: `check the file with: jq . ${file}` })
  }
  const schema = await import('./schema.js')
  const result = schema.configSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const guess =
      issue.code === 'unrecognized_keys' ? closest(String(issue.keys[0]), schema.keysAt(issue.path)) : undefined
    throw new HmsError(`invalid config ${file}: ${describeIssue(issue)}`, {
      hint: guess ? `did you mean "${guess}"?` : 'see "Config file" in the README',
    })
  }
  checkUrls(result.data, file)
  return mergeConfig(result.data, file)
}

/** Every store URL in the file, checked now rather than when a push to it fails (store-url.ts). */
function checkUrls(data: ConfigFile, file: string): void {
  const refs: [string, string][] = [
    ...Object.entries(data.caches ?? {}).map(([name, c]): [string, string] => [`caches.${name}.url`, c.url]),
    ...(data.cache ? [['cache', data.cache] as [string, string]] : []),
    ...Object.entries(data.profiles ?? {}).flatMap(([name, p]): [string, string][] =>
      p.cache ? [[`profiles.${name}.cache`, p.cache]] : [],
    ),
  ]
  for (const [at, url] of refs) {
    if (!url.includes('://')) continue
    const problem = storeUrlProblem(url)
    if (problem)
      throw new HmsError(`invalid config ${file}: ${at} "${withoutCredentials(url)}" ${problem.message}`, {
        hint: problem.hint,
      })
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length ? issue.path.map(String).join('.') : 'top level'
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${at}.` : ''
    return `unknown key "${where}${issue.keys[0]}"`
  }
  return `${at}: ${issue.message}`
}

/** Defaults, then the file; each top-level key of the file replaces the default whole. */
export function mergeConfig(file: ConfigFile, path: string): Config {
  const profiles = file.profiles
    ? Object.fromEntries(
        Object.entries(file.profiles).map(([name, p]) => [name, { hosts: p.hosts ?? [name], cache: p.cache }]),
      )
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
