import { printable } from '../lib/format.js'
import { credentialSource, minimumCachix } from '../backends/cachix/preflight.js'
import type { Probe } from '../backends/backend.js'
import { becomeTrusted, showConfigArgs, trustedUsersOf, trustingEntry } from '../switch/trust.js'
import { defaultConfig } from '../plan/config.js'
import type { Target } from '../plan/target.js'
import { signingKeyOf, signingKeyProblem } from '../backends/store/signing-key.js'
import {
  cacheTimeoutMs,
  defaultTimeoutMs,
  probeLimits,
  type Check,
  type CheckResult,
  type DoctorBackend,
  type DoctorContext,
  type PendingRead,
  type Status,
  type World,
} from './run.js'

/** The runner and its types live in doctor-run.ts; the command and the tests take them from here. */
export * from './run.js'

const ok = (message: string): CheckResult => ({ status: 'ok', message })
const fail = (message: string, fix: string): CheckResult => ({ status: 'fail', message, fix })
const warn = (message: string, fix?: string): CheckResult => ({ status: 'warn', message, ...(fix ? { fix } : {}) })
const skip = (message: string): CheckResult => ({ status: 'skip', message })

const firstLine = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('(use')) ?? ''
const nixArgs = (...features: string[]) => ['--extra-experimental-features', ['nix-command', ...features].join(' ')]

export function parseNixVersion(output: string): string | undefined {
  return /(\d+\.\d+(?:\.\d+)?\S*)/.exec(output)?.[1]
}

const nixCheck: Check = {
  id: 'nix',
  title: 'nix',
  async run(_ctx, world) {
    const nix = world.which('nix')
    if (!nix) return fail('not found on PATH', 'install Nix (https://nixos.org/download) or add it to PATH')
    const version = parseNixVersion((await world.exec(nix, ['--version'], defaultTimeoutMs)).stdout)
    return version
      ? ok(`Nix ${version} (${nix})`)
      : warn(`could not read the version of ${nix}`, 'check that `nix --version` works')
  },
}

const homeManagerCheck: Check = {
  id: 'home-manager',
  title: 'home-manager',
  async run(_ctx, world) {
    const found = world.which('home-manager')
    return found
      ? ok(found)
      : fail('not found on PATH', 'install it: nix run home-manager/master -- init --switch, or add it to PATH')
  },
}

/** The resolved cache, when there is one to talk about. */
function targetOf(ctx: DoctorContext): Target | undefined {
  return ctx.config.ok && ctx.plan?.ok ? ctx.plan.value.target : undefined
}

/** The backend a push would go through; unknown (a broken config) counts as Cachix, the default. */
function backendOf(ctx: DoctorContext, world: World): DoctorBackend {
  return world.backend(targetOf(ctx) ?? { kind: 'cachix', name: defaultConfig.cache })
}

const unneeded = (backend: DoctorBackend) => `not needed: the cache ${backend.url} is a Nix store URL`

/** What stops a push (backends/cachix/preflight.ts), said on the cachix line; credentials have their own. */
const cachixCheck: Check = {
  id: 'cachix',
  title: 'cachix',
  async run(ctx, world) {
    const backend = backendOf(ctx, world)
    if (!backend.needsCachix) return skip(unneeded(backend))
    const blocker = await backend.blocker(ctx.env, defaultTimeoutMs)
    if (blocker?.reason === 'cachix-unreadable') return warn(blocker.message, blocker.fix)
    if (blocker && blocker.reason !== 'no-credentials') return fail(blocker.message, blocker.fix)
    return ok(`${world.which('cachix') ?? 'cachix'} is new enough for watch-exec (${minimumCachix.join('.')}+)`)
  },
}

const credentialsCheck: Check = {
  id: 'credentials',
  title: 'credentials',
  async run(ctx, world) {
    const target = targetOf(ctx)
    const key = signingKeyProblem(target, (path) => world.readable(path))
    if (key) return fail(key.message, key.fix)
    const backend = backendOf(ctx, world)
    // A store URL needs no Cachix credentials: that is information, not a problem.
    if (!backend.needsCachix) {
      const file = signingKeyOf(target)
      return ok(`Cachix credentials ${unneeded(backend)}${file ? `; signing with ${file}` : ''}`)
    }
    // The blocker's own rule, asked alone: a missing cachix must not hide missing credentials.
    const source = credentialSource(ctx.env)
    return source
      ? ok(`Cachix credentials found in ${source}`)
      : fail('no Cachix credentials found', 'run `cachix authtoken <token>` or set CACHIX_AUTH_TOKEN')
  },
}

const trustedCheck: Check = {
  id: 'trusted-user',
  title: 'trusted user',
  async run(ctx, world) {
    const nix = world.which('nix')
    if (!nix) return skip('needs nix')
    const user = ctx.env.USER ?? ctx.env.LOGNAME ?? (await world.exec('id', ['-un'], defaultTimeoutMs)).stdout.trim()
    const store = ctx.env.NIX_STORE_DIR ?? '/nix/store'
    if (world.writable(store)) return ok(`${user} can write ${store}: watch-exec pushes exactly what is built`)
    const [shown, groups] = await Promise.all([
      world.exec(nix, showConfigArgs, defaultTimeoutMs),
      world.exec('id', ['-Gn'], defaultTimeoutMs),
    ])
    const trustedUsers = shown.exitCode === 0 ? trustedUsersOf(shown.stdout) : undefined
    if (!trustedUsers)
      return warn(
        `could not read nix show-config: ${firstLine(shown.stderr) || 'no trusted-users in its output'}`,
        'check that `nix show-config` works',
      )
    const entry = trustingEntry(trustedUsers, user, groups.stdout.split(/\s+/).filter(Boolean))
    if (entry) return ok(`${user} is trusted (${entry} in trusted-users): watch-exec pushes exactly what is built`)
    return warn(
      `${user} is not a trusted Nix user: watch-exec falls back to watching the whole store`,
      `${becomeTrusted(user)}, or switch with --mode generation`,
    )
  },
}

const configCheck: Check = {
  id: 'config',
  title: 'config',
  async run(ctx) {
    if (!ctx.config.ok)
      return fail(
        ctx.config.error.message,
        ctx.config.error.hint ?? 'fix the file, or rewrite it with hms init --force',
      )
    const { file } = ctx.config.value
    return ok(file ? `${file} is valid` : 'no config file, using the built-in defaults (hms init writes one)')
  },
}

const from = (source: string | undefined) => (source ? ` (from ${source})` : '')

const profileCheck: Check = {
  id: 'profile',
  title: 'profile',
  async run(ctx) {
    if (!ctx.plan) return skip('needs a valid config')
    if (!ctx.plan.ok) return fail(ctx.plan.error.message, ctx.plan.error.hint ?? 'see hms --plan')
    const { profile, host, cache, sources, notes } = ctx.plan.value
    const line =
      `${profile ?? '(none)'}${from(sources.profile)}, host ${host}${from(sources.host)}, ` +
      `cache ${cache}${from(sources.cache)}`
    return ok([line, ...notes].join('; '))
  },
}

/** `ref#attr` → its parts; quotes around the attribute are nix syntax, not part of the name. */
export function splitFlake(flake: string): { ref: string; attr?: string } {
  const at = flake.indexOf('#')
  if (at < 0) return { ref: flake }
  return { ref: flake.slice(0, at), attr: flake.slice(at + 1).replace(/^"|"$/g, '') || undefined }
}

const offline = new RegExp(
  [
    'unable to download',
    "could(?:n't| not) resolve host",
    'network is unreachable',
    'failed to connect',
    'connection timed out',
    'temporary failure in name resolution',
  ].join('|'),
  'i',
)

export const isOfflineError = (text: string): boolean => offline.test(text)

const flakeCheck: Check = {
  id: 'flake',
  title: 'flake',
  timeoutMs: 10_000,
  async run(ctx, world) {
    if (!ctx.plan?.ok) return skip('needs a resolved profile')
    const { flake, user, host } = ctx.plan.value
    if (!flake) return skip('no flake configured: home-manager uses ~/.config/home-manager')
    const nix = world.which('nix')
    if (!nix) return skip('needs nix')
    const { ref, attr } = splitFlake(flake)
    const wanted = attr ? [attr] : [`${user}@${host}`, user]
    const result = await world.exec(
      nix,
      [...nixArgs('flakes'), 'eval', '--json', `${ref}#homeConfigurations`, '--apply', 'builtins.attrNames'],
      8_000,
    )
    if (result.timedOut)
      return warn(
        `nix eval of ${ref} took longer than 8s`,
        `try it yourself: nix eval ${ref}#homeConfigurations --apply builtins.attrNames`,
      )
    if (result.exitCode !== 0) {
      const reason = firstLine(result.stderr)
      if (isOfflineError(result.stderr)) return skip(`skipped: offline, cannot fetch ${ref} (${reason})`)
      return fail(
        `cannot evaluate ${ref}#homeConfigurations: ${reason}`,
        'fix the flake, or point --flake / config "flake" elsewhere',
      )
    }
    const names = parseNames(result.stdout)
    const found = wanted.find((name) => names.includes(name))
    if (found) return ok(`${ref}#homeConfigurations."${found}" exists`)
    return fail(
      `${ref} has no homeConfigurations."${wanted[0]}" (it has: ${names.join(', ') || 'none'})`,
      'add it to the flake, or fix config "user" / the profile\'s hosts',
    )
  },
}

function parseNames(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json)
    return Array.isArray(value) ? value.map(String) : []
  } catch {
    return []
  }
}

/** A probe's answer as a check line: nothing to fix is a warning, offline is not this machine's check to fail. */
const statusOf: Record<Probe['status'], Status> = { ok: 'ok', fail: 'fail', later: 'warn', offline: 'skip' }

/** Asked through the cache's backend, as a push asks it: the same credentials, the same errors. */
const cacheCheck: Check = {
  id: 'cache',
  title: 'cache',
  timeoutMs: cacheTimeoutMs,
  async run(ctx, world) {
    const target = targetOf(ctx)
    if (!target) return skip('needs a resolved cache')
    const { status, message, fix } = await world.backend(target).probe(ctx.env, probeLimits)
    return { status: statusOf[status], message, ...(fix ? { fix } : {}) }
  },
}

/** What the queue holds, as state.ts reads it without repairing (doctor never changes state). */

export function judgePending({ entries, warning }: PendingRead): CheckResult {
  if (entries.length === 0) {
    return warning
      ? warn(`no paths waiting; ${printable(warning)}`, 'the next hms push --pending sets the damaged file aside')
      : ok('no paths waiting')
  }
  const byCache = new Map<string, number>()
  for (const { cache } of entries) byCache.set(cache, (byCache.get(cache) ?? 0) + 1)
  const per = [...byCache].map(([cache, n]) => `${n} for ${printable(cache)}`).join(', ')
  const total = entries.length
  const damage = warning ? `; ${printable(warning)}` : ''
  return warn(`${total} path${total > 1 ? 's' : ''} waiting (${per})${damage}`, 'run hms push --pending')
}

const pendingCheck: Check = {
  id: 'pending',
  title: 'pending',
  async run(_ctx, world) {
    return judgePending(await world.pending())
  },
}

export const checks: Check[] = [
  nixCheck,
  homeManagerCheck,
  cachixCheck,
  credentialsCheck,
  trustedCheck,
  configCheck,
  profileCheck,
  flakeCheck,
  cacheCheck,
  pendingCheck,
]
