import { z } from 'zod'

// The lines of pending.jsonl and history.jsonl (README, "State files"): the types are inferred from these
// schemas. zod is loaded only when a file has lines to check (state.ts imports this module lazily).
// A key no schema knows (written by a newer hms) is dropped, not refused: the line still counts.

/** Where a queued path was going: the resolved cache, never its credentials (see queue-target.ts). */
export const queueTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cachix'), name: z.string() }),
  z.object({ kind: z.literal('store'), url: z.string() }),
])

export const pendingEntrySchema = z.object({
  path: z.string().startsWith('/nix/store/'),
  cache: z.string(),
  reason: z.string(),
  since: z.string(),
  /** Absent in entries written before hms recorded it: those go wherever the name resolves now. */
  target: queueTargetSchema.optional(),
})

export const historyRecordSchema = z.object({
  time: z.string(),
  command: z.enum(['switch', 'push']),
  profile: z.string().nullable(),
  cache: z.string().nullable(),
  /** `hms push --pending` to several caches (then `cache` is null). */
  caches: z.array(z.string()).optional(),
  mode: z.string(),
  generation: z.number().int().nullable(),
  paths: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  failed: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  exitCode: z.number().int(),
})

export type QueueTarget = z.infer<typeof queueTargetSchema>
export type PendingEntry = z.infer<typeof pendingEntrySchema>
export type HistoryRecord = z.infer<typeof historyRecordSchema>
