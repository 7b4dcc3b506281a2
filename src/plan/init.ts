import { resolve } from 'node:path'
import { resolveTarget } from './target.js'
import { shortHost } from './plan.js'
import { usageError } from '../lib/errors.js'
import { configSchema, type ConfigFile } from './schema.js'

export interface InitValues {
  cache?: string
  flake?: string
  user?: string
  /** `name[=host[,host…]][:cache]`, as `--profile` takes them. */
  profileSpecs: string[]
}

export interface Machine {
  hostname: string
  cwd: string
  env: Record<string, string | undefined>
  /** Whether the current directory holds a flake.nix. */
  hasFlake: boolean
}

type ProfileEntry = NonNullable<ConfigFile['profiles']>[string]

export const specExample = 'shoshin=shoshin,shoshin-wsl:my-cache-skylake'

export const hasValues = (v: InitValues): boolean => Boolean(v.cache || v.flake || v.user || v.profileSpecs.length)

/** `shoshin=shoshin,laptop:my-cache` → its profile; the cache may be a store URL, colons and all. */
export function parseProfileSpec(spec: string): [string, ProfileEntry] {
  const colon = spec.indexOf(':')
  const head = colon < 0 ? spec : spec.slice(0, colon)
  const cache = colon < 0 ? undefined : spec.slice(colon + 1)
  const eq = head.indexOf('=')
  const name = eq < 0 ? head : head.slice(0, eq)
  const hostList = eq < 0 ? undefined : head.slice(eq + 1)
  const hosts = hostList === undefined ? [name] : hostList.split(',').map((h) => h.trim())
  if (!name.trim() || hosts.some((h) => !h) || cache === '') {
    throw usageError(`bad --profile "${spec}"`, `write it as name=host[,host][:cache], e.g. --profile ${specExample}`)
  }
  return [name.trim(), { hosts, ...(cache ? { cache } : {}) }]
}

/** Flags (or prompt answers) → the config file's content, validated by the schema every run reads it with. */
export function initConfig(values: InitValues, machine: Pick<Machine, 'hostname' | 'cwd'>): ConfigFile {
  if (!values.cache)
    throw usageError(
      'hms init needs a cache',
      'pass --cache <cachix-name or store URL>, e.g. hms init --cache my-cache --flake ~/ws',
    )
  const profiles: Record<string, ProfileEntry> = {}
  for (const [name, profile] of values.profileSpecs.map(parseProfileSpec)) {
    if (name in profiles) throw usageError(`profile "${name}" is given twice`, 'give each --profile its own name')
    profiles[name] = profile
  }
  if (Object.keys(profiles).length === 0)
    profiles[shortHost(machine.hostname)] = { hosts: [shortHost(machine.hostname)] }
  const config = {
    cache: values.cache,
    ...(values.user ? { user: values.user } : {}),
    ...(values.flake ? { flake: flakePath(values.flake, machine.cwd) } : {}),
    profiles,
  }
  const result = configSchema.safeParse(config)
  if (!result.success)
    throw usageError(`the config would be invalid: ${result.error.issues[0]!.message}`, 'check the values given')
  // The schema checks shapes; every run also resolves each cache, so init refuses what runs would.
  for (const cache of [config.cache, ...Object.values(profiles).map((p) => p.cache)])
    if (cache) resolveTarget(cache, {}, undefined, 'hms init')
  return result.data
}

/** Config's flake is read from anywhere later, so a relative path is made absolute now; `~` stays for hms to expand. */
function flakePath(flake: string, cwd: string): string {
  if (flake.includes('#'))
    throw usageError(
      `--flake "${flake}" has an attribute`,
      `give the flake alone (${flake.split('#')[0] || '.'}): hms adds #user@host for each profile`,
    )
  return flake === '.' || flake.startsWith('./') || flake.startsWith('../') ? resolve(cwd, flake) : flake
}

/** What the prompt proposes: this host, this user, the flake in the current directory. */
export function proposals(machine: Machine): { user?: string; flake?: string; profile: string; hosts: string } {
  const host = shortHost(machine.hostname)
  return {
    user: machine.env.USER ?? machine.env.LOGNAME,
    flake: machine.hasFlake ? machine.cwd : undefined,
    profile: host,
    hosts: host,
  }
}
