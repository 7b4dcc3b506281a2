import type { HmsOptions } from './args.js'
import type { Config, Profile } from './config.js'
import { usageError } from './errors.js'
import { hasCredentials, withoutCredentials } from './store-url.js'
import { compileExclude, copyUrl, nixCopyArgs, resolveTarget, type Target, expandHome } from './target.js'

export type Source = '--profile' | '--cache' | '--flake' | 'HMS_PROFILE' | 'HMS_CACHE' | 'flake attribute' | 'hostname' | 'profile' | 'config' | 'default' | 'home-manager'

export interface PlanInput {
  options: HmsOptions
  passthrough: string[]
  config: Config
  env: Record<string, string | undefined>
  hostname: string
}

export interface Plan {
  profile?: string
  host: string
  user: string
  /** Where to push; undefined when pushing is off. */
  cache?: string
  /** What `cache` refers to: a Cachix cache or a Nix store URL (issue 4). */
  target?: Target
  flake?: string
  sources: { profile?: Source; host: Source; cache?: Source; flake?: Source }
  notes: string[]
  push: boolean
  /** home-manager's -n/--dry-run: it builds, activates nothing. */
  dryRun: boolean
  /** watch-exec pushes what the switch builds; generation pushes the new generation's closure after a plain switch. */
  mode: 'watch-exec' | 'generation'
  /** Push in a detached process after the switch (generation mode). */
  background: boolean
  notify: boolean
  retries: number
  autoRetry: boolean
  strict: boolean
  jobs?: number
  compressionMethod?: 'xz' | 'zstd'
  /** `home-manager switch …` exactly as home-manager will receive it. */
  homeManager: string[]
  /** What hms runs: cachix wrapping home-manager, or home-manager alone. */
  command: string[]
  /** For a store URL: the nix copy hms runs on the paths the switch builds. */
  pushCommand?: string[]
  /** `push.exclude`: regexes on store path names never pushed to a store URL. */
  exclude: string[]
  /** `hms switch --verify`: check the whole generation is in the cache after the push. */
  verify: boolean
  /** Credentials typed only on the command line: how a later push (queue) can get them again. */
  credentialsNote?: string
}

/** Flags + config + environment → what to run. Pure: no I/O, so every rule here is a table test. */
export function makePlan(input: PlanInput): Plan {
  const { options, config, env } = input
  const notes: string[] = []
  const flakeHost = hostOfFlake(options.flake)
  const profile = resolveProfile(input, flakeHost)
  const host = flakeHost ?? hostFor(profile?.value, config, input.hostname)
  if (!profile) notes.push(`host ${host} is in no profile; using the top-level cache`)
  const user = config.user ?? env.USER ?? env.LOGNAME ?? 'user'
  // home-manager hands the flake to nix, which does not expand `~`; the shell would have, for a typed flag.
  const flake = resolveFlake(options.flake, config.flake && expandHome(config.flake, env.HOME), user, host)
  const cache = resolveCache(options, env, profile ? config.profiles[profile.value] : undefined, config)
  const strict = options.strict ?? config.push.strict
  const jobs = options.pushJobs ?? config.push.jobs
  const compressionMethod = options.compressionMethod ?? config.push.compressionMethod
  const homeManager = ['home-manager', 'switch', ...(flake ? ['--flake', flake.value] : []), ...input.passthrough]
  // A background push cannot ride along inside the switch, so it pushes the generation afterwards.
  const mode = options.background ? 'generation' : options.mode ?? config.push.mode
  if (options.background && options.mode === 'watch-exec') notes.push('--background pushes the new generation after the switch: --mode watch-exec does not apply')
  const target = options.push ? resolveTarget(cache.value, config.caches, env.HOME, cache.source, [env.HMS_CACHE]) : undefined
  const exclude = options.push ? config.push.exclude : []
  compileExclude(exclude)
  if (target?.kind === 'cachix' && exclude.length > 0) notes.push('push.exclude applies to store-URL caches only: cachix pushes whole closures')
  const command = target?.kind === 'cachix' && mode === 'watch-exec' ? watchExec(target.name, { jobs, compressionMethod }, homeManager) : homeManager
  return {
    profile: profile?.value,
    host,
    user,
    // A cachix.org URL names its Cachix cache: one spelling for the queue and history. Credentials
    // stay in target.url only (memory); everything stored or passed on names the cache without them.
    cache: target?.kind === 'cachix' ? target.name : target ? withoutCredentials(cache.value) : undefined,
    target,
    flake: flake?.value,
    sources: { profile: profile?.source, host: flakeHost ? 'flake attribute' : profile && profile.source !== 'hostname' ? 'profile' : 'hostname', cache: options.push ? cache.source : undefined, flake: flake?.source },
    notes,
    push: options.push,
    dryRun: input.passthrough.some((a) => a === '-n' || a === '--dry-run'),
    mode,
    background: options.background,
    notify: options.notify,
    retries: options.retries ?? config.push.retries,
    autoRetry: config.push.autoRetry,
    strict,
    jobs,
    compressionMethod,
    homeManager,
    command,
    ...(target?.kind === 'store' ? { pushCommand: nixCopyArgs(copyUrl(target, compressionMethod)) } : {}),
    exclude,
    verify: options.verify,
    ...(onlyTyped(target, config, env) ? { credentialsNote } : {}),
  }
}

const credentialsNote = 'its credentials were given on the command line only and are not stored: put the URL with them in the hms config (caches.NAME.url), in the netrc file Nix reads, or in HMS_CACHE'

/** The URL carries credentials that neither the config nor HMS_CACHE would give back to a later push. */
function onlyTyped(target: Target | undefined, config: Config, env: Record<string, string | undefined>): boolean {
  if (target?.kind !== 'store' || !hasCredentials(target.url)) return false
  const later = resolveTarget(withoutCredentials(target.url), config.caches, env.HOME, 'config', [env.HMS_CACHE])
  return later.kind !== 'store' || !hasCredentials(later.url)
}

export function watchExec(cache: string, push: { jobs?: number; compressionMethod?: string }, inner: string[]): string[] {
  return [
    'cachix', 'watch-exec',
    ...(push.jobs ? ['--jobs', String(push.jobs)] : []),
    ...(push.compressionMethod ? ['--compression-method', push.compressionMethod] : []),
    cache, '--', ...inner,
  ]
}

interface Resolved<T> { value: T; source: Source }

/** `.#mitsio@shoshin` → `shoshin`; no attribute or no `@` → undefined. */
export function hostOfFlake(flake: string | undefined): string | undefined {
  const attr = flake?.split('#')[1]
  if (!attr) return undefined
  const unquoted = attr.replace(/^"|"$/g, '')
  const at = unquoted.lastIndexOf('@')
  return at >= 0 ? unquoted.slice(at + 1) || undefined : undefined
}

function resolveProfile(input: PlanInput, flakeHost: string | undefined): Resolved<string> | undefined {
  const { options, env, config } = input
  const named = options.profile !== undefined
    ? { value: options.profile, source: '--profile' as const }
    : env.HMS_PROFILE ? { value: env.HMS_PROFILE, source: 'HMS_PROFILE' as const } : undefined
  if (named) {
    if (!Object.hasOwn(config.profiles, named.value)) throw unknownProfile(named.value, named.source, config)
    return named
  }
  if (flakeHost) {
    const claimed = profileOfHost(flakeHost, config)
    return claimed ? { value: claimed, source: 'flake attribute' } : undefined
  }
  const short = shortHost(input.hostname)
  const claimed = profileOfHost(short, config)
  return claimed ? { value: claimed, source: 'hostname' } : undefined
}

/** `shoshin.lan` → `shoshin`, as `hostname -s` says it. */
export const shortHost = (hostname: string): string => hostname.split('.')[0] || hostname

export function profileOfHost(host: string, config: Config): string | undefined {
  const entries = Object.entries(config.profiles)
  return entries.find(([, p]) => p.hosts.includes(host))?.[0] ?? entries.find(([name]) => name === host)?.[0]
}

function hostFor(profileName: string | undefined, config: Config, hostname: string): string {
  const short = shortHost(hostname)
  const profile: Profile | undefined = profileName ? config.profiles[profileName] : undefined
  if (!profile || profile.hosts.includes(short)) return short
  return profile.hosts[0] ?? profileName ?? short
}

function resolveFlake(flag: string | undefined, configured: string | undefined, user: string, host: string): Resolved<string> | undefined {
  if (flag !== undefined) return { value: flag, source: '--flake' }
  if (configured) return { value: `${configured}#${user}@${host}`, source: 'config' }
  return undefined
}

function resolveCache(options: HmsOptions, env: Record<string, string | undefined>, profile: Profile | undefined, config: Config): Resolved<string> {
  if (options.cache) return { value: options.cache, source: '--cache' }
  if (env.HMS_CACHE) return { value: env.HMS_CACHE, source: 'HMS_CACHE' }
  if (profile?.cache) return { value: profile.cache, source: 'profile' }
  return { value: config.cache, source: config.file ? 'config' : 'default' }
}

function unknownProfile(name: string, source: Source, config: Config) {
  const known = Object.keys(config.profiles)
  return usageError(`unknown profile "${name}" (from ${source})`, known.length ? `known profiles: ${known.join(', ')}` : 'no profiles are configured')
}
