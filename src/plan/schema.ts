import { z } from 'zod'
import { compressionMethods, pushModes } from './options.js'

// The `.describe()` texts are also the home-manager module's option descriptions: nix/settings-schema.json is
// z.toJSONSchema(configSchema), checked by test/nix-schema.test.ts, and nix/settings.nix builds the options from it.
const cacheRef = z.string().min(1)

export const profileSchema = z.strictObject({
  hosts: z
    .array(z.string().min(1))
    .optional()
    .describe('Host names (short, without domain) of this profile. Default: `[ <profile name> ]`.'),
  cache: cacheRef.optional().describe('Cache for the hosts of this profile instead of the top-level `cache`.'),
})

export const cacheSchema = z.strictObject({
  url: z.string().min(1).describe('Store URL of the cache: `file://`, `s3://`, `ssh://`, `ssh-ng://`, `http(s)://`.'),
  secretKeyFile: z
    .string()
    .min(1)
    .optional()
    .describe('File with the signing key, read at run time. A string: a Nix path would copy the key into the store.'),
})

/** Printable ASCII: store path names are ASCII, and the Nix module checks the syntax byte by byte. */
const printableAscii = (pattern: string): boolean => /^[\x20-\x7e]*$/.test(pattern)

function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern)
    return true
  } catch {
    return false
  }
}

/** A JavaScript regular expression (no flags); nix/js-regex.nix checks the same syntax. */
const excludePattern = z
  .string()
  .refine(printableAscii, { message: 'use printable ASCII (write other characters as \\uXXXX)', abort: true })
  .refine(isRegex, 'not a valid regular expression')
  .meta({ format: 'regex' })

export const pushSchema = z.strictObject({
  jobs: z.number().int().positive().optional().describe('Parallel uploads (`cachix push --jobs`).'),
  compressionMethod: z.enum(compressionMethods).optional().describe('Compression of uploaded NARs.'),
  strict: z.boolean().optional().describe('A failed or impossible push is an error (like `--strict`). Default: false.'),
  mode: z
    .enum(pushModes)
    .optional()
    .describe('`watch-exec`: push everything built during the switch; `generation`: the new generation afterwards.'),
  autoRetry: z.boolean().optional().describe('Retry failed pushes. Default: true.'),
  retries: z.number().int().min(0).optional().describe('How many times a failed push is retried. Default: 2.'),
  exclude: z
    .array(excludePattern)
    .optional()
    .describe('JavaScript regular expressions; store path names (after the hash) matching one are not pushed.'),
})

export const configSchema = z.strictObject({
  $schema: z.string().optional().describe('JSON schema of the file, for editors.'),
  cache: cacheRef
    .optional()
    .describe("Cachix cache, or a name from `caches`, used when the host's profile names none."),
  user: z.string().min(1).optional().describe('User in the flake attribute `<flake>#<user>@<host>`. Default: `$USER`.'),
  flake: z.string().min(1).optional().describe('Flake with the home configurations, e.g. `~/nix-config`.'),
  profiles: z
    .record(z.string().min(1), profileSchema)
    .optional()
    .describe('Groups of hosts sharing a cache. When set, it replaces the built-in profiles as a whole.'),
  caches: z.record(z.string().min(1), cacheSchema).optional().describe('Caches that are not Cachix caches, by name.'),
  push: pushSchema.optional().describe('How hms pushes.'),
  quotaBytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Storage quota of the cache in bytes, for `hms status`. Default: 5 GiB.'),
})

export type ConfigFile = z.infer<typeof configSchema>
export type ProfileFile = z.infer<typeof profileSchema>
export type CacheFile = z.infer<typeof cacheSchema>
export type PushFile = z.infer<typeof pushSchema>

/** The keys the config allows at `path`, for "did you mean" on an unknown one. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  const shape =
    path.length === 0
      ? configSchema.shape
      : path[0] === 'push'
        ? pushSchema.shape
        : path[0] === 'profiles' && path.length === 2
          ? profileSchema.shape
          : path[0] === 'caches' && path.length === 2
            ? cacheSchema.shape
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

/**
 * What changed between two generations, package by package (src/diff/compute.ts): a package is a
 * closure entry with a name and a version, grouped by name as `nix store diff-closures` groups them.
 */
export const diffSchema = z.strictObject({
  /** One entry per name, in all three lists; several versions of one name are joined with ", ". */
  added: z.array(z.strictObject({ name: z.string(), version: z.string() })),
  removed: z.array(z.strictObject({ name: z.string(), version: z.string() })),
  changed: z.array(z.strictObject({ name: z.string(), from: z.string(), to: z.string() })),
  /** NAR sizes summed over each whole closure. */
  closureBytesBefore: z.number().int().nonnegative(),
  closureBytesAfter: z.number().int().nonnegative(),
})

export type PackageDiff = z.infer<typeof diffSchema>

/** `hms diff --json`. */
export const diffDocumentSchema = z.strictObject({
  version: z.string(),
  before: z.strictObject({ generation: z.number().int().nullable(), path: z.string() }),
  after: z.strictObject({ generation: z.number().int().nullable(), path: z.string() }),
  diff: diffSchema,
})

export type DiffDocument = z.infer<typeof diffDocumentSchema>

/** The `--json` summary: one document on stdout at the end of every run. */
export const summarySchema = z.strictObject({
  version: z.string(),
  command: z.array(z.string()),
  profile: z.string().nullable(),
  host: z.string(),
  /** The cache pushed to; null when there is none, or when `hms push --pending` pushed to several (see `caches`). */
  cache: z.string().nullable(),
  /**
   * `hms push --pending` only: every cache the queue was pushed to (or tried), in queue order; [] for an empty queue.
   */
  caches: z.array(z.string()).optional(),
  /** watch-exec / generation / plain (no push) for switch; generation, paths or pending for hms push. */
  mode: z.enum(['watch-exec', 'generation', 'plain', 'paths', 'pending']),
  /** null for hms push, which switches nothing. */
  switch: z
    .strictObject({
      ok: z.boolean(),
      exitCode: z.number().int(),
      durationMs: z.number().nonnegative(),
      generation: z.number().int().nullable(),
      signal: z.string().nullable(),
      /** home-manager's -n/--dry-run: built (and pushed), nothing activated. */
      dryRun: z.boolean(),
    })
    .nullable(),
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
  /**
   * A switch: what changed from the previous generation to the new one; null when no new generation
   * was made (or it could not be computed: then a note says why). Absent for `hms push`.
   */
  diff: diffSchema.nullable().optional(),
  exitCode: z.number().int(),
})

export type Summary = z.infer<typeof summarySchema>

/** `hms push --plan --json` (also with `--pending`): what each push would run; nothing runs. */
export const pushPlanSchema = z.strictObject({
  version: z.string(),
  pushes: z.array(
    z.strictObject({
      cache: z.string(),
      /** Runs before `command`: the signing in the local store, for an ssh store with a signing key. */
      sign: z.array(z.string()).optional(),
      command: z.array(z.string()),
      paths: z.array(z.string()),
    }),
  ),
})

export type PushPlan = z.infer<typeof pushPlanSchema>

/** `hms push --pending --drop --json` (and with `--plan`: what would be dropped, nothing is). */
export const dropDocumentSchema = z.strictObject({
  version: z.string(),
  /** --plan: nothing was dropped; `dropped` is what would be. */
  plan: z.boolean(),
  /** `--cache`: only that cache's entries; null: the whole queue. */
  cache: z.string().nullable(),
  dropped: z.array(z.strictObject({ path: z.string(), cache: z.string() })),
  exitCode: z.number().int(),
})

export type DropDocument = z.infer<typeof dropDocumentSchema>

/**
 * What `--json` prints instead when hms stops before it has a result (a bad config, a held lock,
 * `--strict` without cachix…): stdout still carries exactly one document.
 */
export const errorDocumentSchema = z.strictObject({
  version: z.string(),
  /** The subcommand, when the arguments got that far. */
  command: z.string().nullable(),
  error: z.strictObject({ message: z.string(), hint: z.string().nullable() }),
  exitCode: z.number().int(),
})

export type ErrorDocument = z.infer<typeof errorDocumentSchema>
