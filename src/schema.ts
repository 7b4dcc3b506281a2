import { z } from 'zod'

const cacheRef = z.string().min(1)

export const profileSchema = z.strictObject({
  hosts: z.array(z.string().min(1)).optional(),
  cache: cacheRef.optional(),
})

export const cacheSchema = z.strictObject({
  url: z.string().min(1),
  secretKeyFile: z.string().min(1).optional(),
})

function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern)
    return true
  } catch {
    return false
  }
}

export const pushSchema = z.strictObject({
  jobs: z.number().int().positive().optional(),
  compressionMethod: z.enum(['xz', 'zstd']).optional(),
  strict: z.boolean().optional(),
  mode: z.enum(['watch-exec', 'generation']).optional(),
  autoRetry: z.boolean().optional(),
  retries: z.number().int().min(0).optional(),
  exclude: z.array(z.string().refine(isRegex, 'not a valid regular expression')).optional(),
})

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  cache: cacheRef.optional(),
  user: z.string().min(1).optional(),
  flake: z.string().min(1).optional(),
  profiles: z.record(z.string().min(1), profileSchema).optional(),
  caches: z.record(z.string().min(1), cacheSchema).optional(),
  push: pushSchema.optional(),
  quotaBytes: z.number().int().positive().optional(),
})

export type ConfigFile = z.infer<typeof configSchema>

/** The keys the config allows at `path`, for "did you mean" on an unknown one. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  const shape = path.length === 0 ? configSchema.shape
    : path[0] === 'push' ? pushSchema.shape
    : path[0] === 'profiles' && path.length === 2 ? profileSchema.shape
    : path[0] === 'caches' && path.length === 2 ? cacheSchema.shape
    : {}
  return Object.keys(shape)
}

/** `hms verify --json`, and `verify` in the summary of `hms switch --verify`. */
export const verifyResultSchema = z.strictObject({
  cache: z.string(),
  /** Where the narinfo files were looked for. */
  url: z.string(),
  generation: z.number().int().nullable(),
  roots: z.array(z.string()),
  total: z.number().int().nonnegative(),
  present: z.number().int().nonnegative(),
  missing: z.array(z.strictObject({ path: z.string(), bytes: z.number().int().nonnegative() })),
  missingBytes: z.number().int().nonnegative(),
  ok: z.boolean(),
  /** Why the cache could not be checked (network, permissions); then nothing is counted as missing. */
  error: z.string().nullable(),
})

export type VerifyResult = z.infer<typeof verifyResultSchema>

/** The `--json` summary: one document on stdout at the end of every run. */
export const summarySchema = z.strictObject({
  version: z.string(),
  command: z.array(z.string()),
  profile: z.string().nullable(),
  host: z.string(),
  cache: z.string().nullable(),
  /** watch-exec / generation / plain (no push) for switch; generation, paths or pending for hms push. */
  mode: z.enum(['watch-exec', 'generation', 'plain', 'paths', 'pending']),
  /** null for hms push, which switches nothing. */
  switch: z.strictObject({
    ok: z.boolean(),
    exitCode: z.number().int(),
    durationMs: z.number().nonnegative(),
    generation: z.number().int().nullable(),
    signal: z.string().nullable(),
    /** home-manager's -n/--dry-run: built (and pushed), nothing activated. */
    dryRun: z.boolean(),
  }).nullable(),
  push: z.strictObject({
    attempted: z.boolean(),
    pushed: z.array(z.strictObject({ path: z.string(), bytes: z.number().int().nonnegative() })),
    failed: z.array(z.string()),
    bytes: z.number().int().nonnegative(),
    skippedReason: z.string().nullable(),
    /** Paths cachix found already in the cache (hms push only; 0 otherwise). */
    alreadyPresent: z.number().int().nonnegative(),
    /** Paths that were not confirmed and now wait in the queue. */
    queued: z.array(z.string()),
    /** Paths left out by `push.exclude` (store URLs), and paths that need them. */
    excluded: z.array(z.string()),
    /**
     * Pushed paths outside the new generation's closure: what home-manager built besides it
     * (nix-env's user-environment and env-manifest.nix, hm-news.json). Pushed like the rest.
     */
    outsideGeneration: z.array(z.string()),
  }),
  notes: z.array(z.string()),
  /** Background push started instead of pushing in this process. */
  background: z.strictObject({ pid: z.number().int(), log: z.string() }).nullable(),
  /** `hms switch --verify`: is the whole generation in the cache? */
  verify: verifyResultSchema.optional(),
  exitCode: z.number().int(),
})

export type Summary = z.infer<typeof summarySchema>
