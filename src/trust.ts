/**
 * Is this user a trusted Nix user? It decides whether a post-build hook runs (cachix watch-exec's
 * precision, hms's own hook for store URLs). cachix-action's rule: a writable store, or the user,
 * one of their groups (`@group`) or `*` in `trusted-users`.
 */

/** The `trusted-users` entry that makes `user` trusted, if any. */
export function trustingEntry(trustedUsers: readonly string[], user: string, groups: readonly string[]): string | undefined {
  return trustedUsers.find((entry) => entry === '*' || entry === user || (entry.startsWith('@') && groups.includes(entry.slice(1))))
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
  return `add "trusted-users = root ${user}" to /etc/nix/nix.conf (NixOS: nix.settings.trusted-users = [ "${user}" ];) and restart nix-daemon`
}
