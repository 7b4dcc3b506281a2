import type { HmsOptions } from './options.js'
import type { Config, Profile, PushSettings } from './config.js'
import { usageError } from '../lib/errors.js'
import { hasCredentials, withoutCredentials } from './store-url.js'
import { compileExclude, copyUrl, nixCopyArgs, resolveTarget, signArgs, type Target, expandHome } from './target.js'

export type Source =
  | '--profile'
  | '--cache'
  | '--flake'
  | 'HMS_PROFILE'
  | 'HMS_CACHE'
  | 'flake attribute'
  | 'hostname'
  | 'profile'
  | 'config'
  | 'default'
  | 'home-manager'

export interface PlanInput {
  options: HmsOptions
  passthrough: string[]
  config: Config
  env: Record<string, string | undefined>
  hostname: string
}

/**
 * The push settings in effect (config `push`, then flags): `mode` (watch-exec pushes what the switch builds;
 * generation pushes the new generation's closure after a plain switch), `retries`, `autoRetry`, `strict`, `jobs`,
 * `compressionMethod`, and `exclude` (regexes on store path names never pushed to a store URL).
 */
type PushChoices = Pick<
  PushSettings,
  'mode' | 'retries' | 'autoRetry' | 'strict' | 'jobs' | 'compressionMethod' | 'exclude'
>

export interface Plan extends PushChoices {
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
  /** Push in a detached process after the switch (generation mode). */
  background: boolean
  notify: boolean
  /** `home-manager switch …` exactly as home-manager will receive it. */
  homeManager: string[]
  /** What hms runs: cachix wrapping home-manager, or home-manager alone. */
  command: string[]
  /** For a store URL: the nix copy hms runs on the paths the switch builds. */
  pushCommand?: string[]
  /** Before it, for an ssh store with a signing key: the signing in the local store. */
  signCommand?: string[]
  /** `hms switch --verify`: check the whole generation is in the cache after the push. */
  verify: boolean
  /** Credentials typed only on the command line: how a later push (queue) can get them again. */
  credentialsNote?: string
}

/** Flags + config + environment → what to run. Pure: no I/O, so every rule here is a table test. */
export function makePlan(input: PlanInput): Plan {
  const { options, config, env } = input
  const notes: string[] = []
  const user = config.user ?? env.USER ?? env.LOGNAME ?? 'user'
  // home-manager hands the flake to nix, which does not expand `~`; the shell would have, for a typed flag.
  const configured = config.flake && expandHome(config.flake, env.HOME)
  const given = options.flake ?? (configured?.includes('#') ? configured : undefined)
  const { profile, host, hostSource } = resolveProfile(input, attrOfFlake(given))
  const flake = resolveFlake(
    options.flake,
    configured,
    attributeNeeded(input, profile, user) ? `${user}@${host}` : undefined,
  )
  const cache = resolveCache(options, env, profile ? config.profiles[profile.value] : undefined, config)
  // Only when that cache is the one pushed to: --cache or HMS_CACHE make the profile irrelevant.
  const topLevel = cache.source === 'config' || cache.source === 'default'
  if (!profile && topLevel && options.push) notes.push(`host ${host} is in no profile; using the top-level cache`)
  const strict = options.strict ?? config.push.strict
  const jobs = options.pushJobs ?? config.push.jobs
  const compressionMethod = options.compressionMethod ?? config.push.compressionMethod
  const homeManager = ['home-manager', 'switch', ...(flake ? ['--flake', flake.value] : []), ...input.passthrough]
  // A background push cannot ride along inside the switch, so it pushes the generation afterwards.
  const mode = options.background ? 'generation' : (options.mode ?? config.push.mode)
  if (options.background && options.mode === 'watch-exec')
    notes.push('--background pushes the new generation after the switch: --mode watch-exec does not apply')
  const target = options.push
    ? resolveTarget(cache.value, config.caches, env.HOME, cache.source, [env.HMS_CACHE])
    : undefined
  const exclude = options.push ? config.push.exclude : []
  compileExclude(exclude)
  if (target?.kind === 'cachix' && exclude.length > 0)
    notes.push('push.exclude applies to store-URL caches only: cachix pushes whole closures')
  const command =
    target?.kind === 'cachix' && mode === 'watch-exec'
      ? watchExec(target.name, { jobs, compressionMethod }, homeManager)
      : homeManager
  const signCommand = target?.kind === 'store' ? signArgs(target, exclude.length === 0) : undefined
  return {
    profile: profile?.value,
    host,
    user,
    // A cachix.org URL names its Cachix cache: one spelling for the queue and history. Credentials
    // stay in target.url only (memory); everything stored or passed on names the cache without them.
    cache: target?.kind === 'cachix' ? target.name : target ? withoutCredentials(cache.value) : undefined,
    target,
    flake: flake?.value,
    sources: {
      profile: profile?.source,
      host: hostSource,
      cache: options.push ? cache.source : undefined,
      flake: flake?.source,
    },
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
    ...(target?.kind === 'store'
      ? { pushCommand: nixCopyArgs(copyUrl(target, compressionMethod), exclude.length === 0) }
      : {}),
    ...(signCommand ? { signCommand } : {}),
    ...(target?.kind === 'cachix' && mode === 'generation'
      ? { pushCommand: cachixPushCommand({ cache: target.name, paths: [], jobs, compressionMethod }) }
      : {}),
    exclude,
    verify: options.verify,
    ...(onlyTyped(target, config, env) ? { credentialsNote } : {}),
  }
}

const credentialsNote =
  'its credentials were given on the command line only and are not stored: put the URL with them in the hms config ' +
  '(caches.NAME.url), in the netrc file Nix reads, or in HMS_CACHE'

/** The URL carries credentials that neither the config nor HMS_CACHE would give back to a later push. */
function onlyTyped(target: Target | undefined, config: Config, env: Record<string, string | undefined>): boolean {
  if (target?.kind !== 'store' || !hasCredentials(target.url)) return false
  const later = resolveTarget(withoutCredentials(target.url), config.caches, env.HOME, 'config', [env.HMS_CACHE])
  return later.kind !== 'store' || !hasCredentials(later.url)
}

/** `cachix push`: one builder for what runs and what `--plan` shows. */
export function cachixPushCommand(push: {
  cache: string
  paths: string[]
  jobs?: number
  compressionMethod?: string
}): string[] {
  return [
    'cachix',
    'push',
    ...(push.jobs ? ['--jobs', String(push.jobs)] : []),
    ...(push.compressionMethod ? ['--compression-method', push.compressionMethod] : []),
    push.cache,
    ...push.paths,
  ]
}

export function watchExec(
  cache: string,
  push: { jobs?: number; compressionMethod?: string },
  inner: string[],
): string[] {
  return [
    'cachix',
    'watch-exec',
    ...(push.jobs ? ['--jobs', String(push.jobs)] : []),
    ...(push.compressionMethod ? ['--compression-method', push.compressionMethod] : []),
    cache,
    '--',
    ...inner,
  ]
}

interface Resolved<T> {
  value: T
  source: Source
}

/** The attribute of a flake reference, unquoted: `.#"mitsio@kinoite"` → `mitsio@kinoite`; none → undefined. */
export function attrOfFlake(flake: string | undefined): string | undefined {
  const at = flake?.indexOf('#') ?? -1
  return at < 0 ? undefined : flake!.slice(at + 1).replace(/^"|"$/g, '') || undefined
}

/** `.#mitsio@shoshin` → `shoshin`; no attribute or no `@` → undefined. */
export function hostOfFlake(flake: string | undefined): string | undefined {
  const attr = attrOfFlake(flake)
  const at = attr?.lastIndexOf('@') ?? -1
  return at >= 0 ? attr!.slice(at + 1) || undefined : undefined
}

interface Resolution {
  profile?: Resolved<string>
  host: string
  hostSource: Source
}

/**
 * The profile: named (--profile, HMS_PROFILE), else from the flake attribute (`user@host`, or a
 * bare `host` that a profile claims: `#shoshin`), else from this machine's host name. A bare
 * attribute no profile claims is a user name (home-manager's `$USER` fallback), so it says nothing.
 */
function resolveProfile(input: PlanInput, attr: string | undefined): Resolution {
  const { options, env, config } = input
  const named =
    options.profile !== undefined
      ? { value: options.profile, source: '--profile' as const }
      : env.HMS_PROFILE
        ? { value: env.HMS_PROFILE, source: 'HMS_PROFILE' as const }
        : undefined
  if (named && !Object.hasOwn(config.profiles, named.value)) throw unknownProfile(named.value, named.source, config)
  const at = attr?.lastIndexOf('@') ?? -1
  const attrHost = at >= 0 ? attr!.slice(at + 1) || undefined : attr
  // A named profile wins: the host's claims are then not asked, so an ambiguous host is no error.
  const claimed =
    attrHost === undefined ? undefined : named ? claimsOf(attrHost, config)[0] : profileOfHost(attrHost, config)
  if (attrHost && (at >= 0 || claimed)) {
    return {
      profile: named ?? (claimed ? { value: claimed, source: 'flake attribute' } : undefined),
      host: attrHost,
      hostSource: 'flake attribute',
    }
  }
  const mine = named ? undefined : profileOfHost(input.hostname, config)
  const profile = named ?? (mine ? { value: mine, source: 'hostname' as const } : undefined)
  const host = hostFor(profile?.value, config, input.hostname)
  return { profile, host, hostSource: profile && profile.source !== 'hostname' ? 'profile' : 'hostname' }
}

/** `shoshin.lan` → `shoshin`, as `hostname -s` says it. */
export const shortHost = (hostname: string): string => hostname.split('.')[0] || hostname

/** Host names compare case-insensitively, and an FQDN matches its short form: `Shoshin.lan` is `shoshin`. */
export function sameHost(a: string, b: string): boolean {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()]
  return x === y || shortHost(x) === y || x === shortHost(y)
}

/**
 * The profile whose `hosts` claim `host` (an exact claim beats a short-form one), else the profile
 * named like it. Two profiles claiming the same host is a config error: hms would otherwise pick one
 * silently, and a Skylake build could land in the generic cache.
 */
export function profileOfHost(host: string, config: Config): string | undefined {
  const claims = claimsOf(host, config)
  if (claims.length > 1) {
    const [a, b] = claims
    throw usageError(
      `host ${host} is claimed by profiles ${a} and ${b}${config.file ? ` in ${config.file}` : ''}`,
      `keep it in the hosts of one profile only, or pick one with --profile`,
    )
  }
  return claims[0]
}

/** Profiles whose `hosts` name `host`: the exact claims, else the short-form ones; else the profile named like it. */
function claimsOf(host: string, config: Config): string[] {
  const entries = Object.entries(config.profiles)
  const exact = entries.filter(([, p]) => p.hosts.some((h) => h.toLowerCase() === host.toLowerCase()))
  const claims = exact.length > 0 ? exact : entries.filter(([, p]) => p.hosts.some((h) => sameHost(h, host)))
  const named = entries.filter(([name]) => sameHost(name, host))
  return (claims.length > 0 ? claims : named.slice(0, 1)).map(([name]) => name)
}

function hostFor(profileName: string | undefined, config: Config, hostname: string): string {
  const short = shortHost(hostname)
  const profile: Profile | undefined = profileName ? config.profiles[profileName] : undefined
  if (!profile || profile.hosts.some((h) => sameHost(h, hostname))) return short
  return profile.hosts[0] ?? profileName ?? short
}

/**
 * A configured flake goes to home-manager as it is, so home-manager picks the attribute itself
 * (`user@host`, `user@shorthost`, else `user`). hms names one only when home-manager's own choice
 * would be wrong: a profile forced for another host, or a config `user` other than `$USER`.
 */
function attributeNeeded(input: PlanInput, profile: Resolved<string> | undefined, user: string): boolean {
  const forced = profile && (profile.source === '--profile' || profile.source === 'HMS_PROFILE')
  const elsewhere = forced && !input.config.profiles[profile.value]!.hosts.some((h) => sameHost(h, input.hostname))
  return Boolean(elsewhere) || user !== (input.env.USER ?? input.env.LOGNAME)
}

function resolveFlake(
  flag: string | undefined,
  configured: string | undefined,
  attr: string | undefined,
): Resolved<string> | undefined {
  if (flag !== undefined) return { value: flag, source: '--flake' }
  if (!configured) return undefined
  return { value: configured.includes('#') || !attr ? configured : `${configured}#${attr}`, source: 'config' }
}

function resolveCache(
  options: HmsOptions,
  env: Record<string, string | undefined>,
  profile: Profile | undefined,
  config: Config,
): Resolved<string> {
  if (options.cache) return { value: options.cache, source: '--cache' }
  if (env.HMS_CACHE) return { value: env.HMS_CACHE, source: 'HMS_CACHE' }
  if (profile?.cache) return { value: profile.cache, source: 'profile' }
  return { value: config.cache, source: config.file ? 'config' : 'default' }
}

function unknownProfile(name: string, source: Source, config: Config) {
  const known = Object.keys(config.profiles)
  return usageError(
    `unknown profile "${name}" (from ${source})`,
    known.length ? `known profiles: ${known.join(', ')}` : 'no profiles are configured',
  )
}
