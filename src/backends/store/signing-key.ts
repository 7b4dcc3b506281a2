import type { Target } from '../../plan/target.js'

/** The key file a store-URL cache signs with, if any. */
export function signingKeyOf(target: Target | undefined): string | undefined {
  return target?.kind === 'store' ? target.secretKeyFile : undefined
}

/**
 * The signing key a store-URL cache names but nobody can open: every push would fail on it
 * (`opening file '…'`), so it is a refusal, said once with the fix and never retried (issue 11).
 * `readable` is injected: doctor asks its World, a push the file system.
 */
export function signingKeyProblem(
  target: Target | undefined,
  readable: (path: string) => boolean,
): { message: string; fix: string } | undefined {
  const file = signingKeyOf(target)
  if (!file || readable(file)) return undefined
  const entry = target?.name ? `caches.${target.name}.secretKeyFile` : 'secretKeyFile'
  return {
    message: `signing key ${file} cannot be read`,
    fix:
      `create it (nix-store --generate-binary-cache-key NAME ${file} ${file}.pub, ` +
      `then trust the .pub where the cache is used) or fix ${entry} in the hms config`,
  }
}
