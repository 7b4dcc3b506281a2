import { accessSync, constants } from 'node:fs'
import { userInfo } from 'node:os'
import type { Output } from '../ui/output.js'
import type { Plan } from '../plan/plan.js'
import { capture } from '../lib/process.js'
import type { Env } from '../lib/env.js'

/**
 * Is this user a trusted Nix user? It decides whether a post-build hook runs (cachix watch-exec's
 * precision, hms's own hook for store URLs). cachix-action's rule: a writable store, or the user,
 * one of their groups (`@group`) or `*` in `trusted-users`.
 */

/** The `trusted-users` entry that makes `user` trusted, if any. */
export function trustingEntry(
  trustedUsers: readonly string[],
  user: string,
  groups: readonly string[],
): string | undefined {
  return trustedUsers.find(
    (entry) => entry === '*' || entry === user || (entry.startsWith('@') && groups.includes(entry.slice(1))),
  )
}

/** `trusted-users` from `nix show-config --json`; undefined when the output says nothing usable. */
export function trustedUsersOf(showConfigJson: string): string[] | undefined {
  try {
    const value = (JSON.parse(showConfigJson) as Record<string, { value?: unknown }>)['trusted-users']?.value
    return Array.isArray(value) ? value.map(String) : undefined
  } catch {
    return undefined
  }
}

export const showConfigArgs = ['--extra-experimental-features', 'nix-command', 'show-config', '--json']

export function becomeTrusted(user: string): string {
  return (
    `add "trusted-users = root ${user}" to /etc/nix/nix.conf (NixOS: nix.settings.trusted-users = [ "${user}" ` +
    '];) and restart nix-daemon'
  )
}

export interface Trust {
  trusted: boolean
  user: string
  /** Why, for the message when not trusted. */
  detail: string
}

/** Can nix run a post-build hook hms registers? Yes with a writable store (no daemon), or as a trusted user. */
export async function hookTrust(env: Env): Promise<Trust> {
  const user = env.USER || env.LOGNAME || safeUser()
  const storeDir = env.NIX_STORE_DIR || '/nix/store'
  try {
    accessSync(storeDir, constants.W_OK)
    return { trusted: true, user, detail: `${storeDir} is writable` }
  } catch {}
  const [config, groups] = await Promise.all([
    capture('nix', showConfigArgs, { env, timeoutMs: 20_000 }),
    capture('id', ['-Gn'], { env, timeoutMs: 10_000 }),
  ])
  const trustedUsers = trustedUsersOf(config.stdout)
  if (!trustedUsers) return { trusted: false, user, detail: 'nix show-config did not say who is trusted' }
  const trusted = trustingEntry(trustedUsers, user, groups.stdout.trim().split(/\s+/).filter(Boolean)) !== undefined
  return { trusted, user, detail: `trusted-users = ${trustedUsers.join(' ') || '(none)'}` }
}

function safeUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

/** What hms says, once, when it cannot register the hook; the plan then pushes the new generation instead. */
export function untrustedMessage(trust: Trust): string {
  return (
    `cannot register a post-build hook: ${trust.user} is not a trusted Nix user (${trust.detail}), ` +
    'so nix-daemon would ignore it. ' +
    `Pushing the new generation's closure after the switch instead — correct, only less precise. ` +
    `To push exactly what is built, become trusted: ${becomeTrusted(trust.user)}`
  )
}

/** A store-URL plan in watch-exec mode, made to fall back to generation mode when the hook cannot run. */
export async function withHookOrFallback(
  plan: Plan,
  ctx: { env: Env; out: Output },
  probe: (env: Env) => Promise<Trust> = hookTrust,
): Promise<Plan> {
  if (!plan.push || plan.target?.kind !== 'store' || plan.mode !== 'watch-exec') return plan
  const trust = await probe(ctx.env)
  if (trust.trusted) return plan
  ctx.out.warn(untrustedMessage(trust))
  return {
    ...plan,
    mode: 'generation',
    notes: [
      ...plan.notes,
      `no post-build hook (${trust.user} is not a trusted Nix user): pushed the new generation's closure instead`,
    ],
  }
}
