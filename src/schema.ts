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

export const pushSchema = z.strictObject({
  jobs: z.number().int().positive().optional(),
  compressionMethod: z.enum(['xz', 'zstd']).optional(),
  strict: z.boolean().optional(),
  mode: z.enum(['watch-exec', 'generation']).optional(),
  autoRetry: z.boolean().optional(),
  retries: z.number().int().min(0).optional(),
  exclude: z.array(z.string()).optional(),
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
