import type { HmsOptions } from '../plan/options.js'
import type { Config } from '../plan/config.js'
import { HmsError, messageOf } from '../lib/errors.js'
import type { Plan } from '../plan/plan.js'
import type { PendingEntry, Read } from '../state/state.js'
import type { Env } from '../lib/env.js'
import type { CacheBackend } from '../backends/backend.js'
import type { Limits } from '../backends/store/presence.js'
import type { Target } from '../plan/target.js'

export type Status = 'ok' | 'fail' | 'warn' | 'skip'

export interface CheckResult {
  status: Status
  message: string
  fix?: string
}

export interface CheckReport extends CheckResult {
  id: string
  title: string
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
  timedOut: boolean
}

/** What doctor asks of a cache's backend: the very questions a push asks (backends/backend.ts). */
export type DoctorBackend = Pick<CacheBackend, 'url' | 'needsCachix' | 'blocker' | 'probe'>

/** Everything a check may ask of the machine; the command supplies the real one, tests a fake. */
export interface World {
  which(command: string): string | undefined
  exec(file: string, args: string[], timeoutMs: number): Promise<ExecResult>
  /** The backend a push to `target` goes through. */
  backend(target: Target): DoctorBackend
  writable(path: string): boolean
  readable(path: string): boolean
  pending(): Promise<PendingRead>
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: HmsError }

export interface DoctorContext {
  env: Env
  config: Outcome<Config>
  /** Absent when the config is broken: there is nothing to resolve from. */
  plan?: Outcome<Plan>
}

export interface Check {
  id: string
  title: string
  timeoutMs?: number
  run(ctx: DoctorContext, world: World): Promise<CheckResult>
}

export const defaultTimeoutMs = 5_000
/** Each request to the cache; its check's own limit (cacheTimeoutMs) covers an ssh login and a slow store. */
export const probeLimits: Limits = { jobs: 1, timeoutMs: 3_000 }
export const cacheTimeoutMs = 15_000

export async function doctorContext(
  input: { options: HmsOptions; env: Env; hostname: string },
  load: () => Promise<Config>,
): Promise<DoctorContext> {
  const config = await attempt(load)
  if (!config.ok) return { env: input.env, config }
  const { makePlan } = await import('../plan/plan.js')
  const plan = await attempt(async () =>
    makePlan({
      options: { ...input.options, push: true },
      passthrough: [],
      config: config.value,
      env: input.env,
      hostname: input.hostname,
    }),
  )
  return { env: input.env, config, plan }
}

async function attempt<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() }
  } catch (error) {
    if (error instanceof HmsError) return { ok: false, error }
    return { ok: false, error: new HmsError(messageOf(error)) }
  }
}

/** Runs every check at once, each bounded by its own timeout, and keeps their order. */
export function runChecks(checks: Check[], ctx: DoctorContext, world: World): Promise<CheckReport[]> {
  return Promise.all(
    checks.map(async (check) => ({ id: check.id, title: check.title, ...(await bounded(check, ctx, world)) })),
  )
}

async function bounded(check: Check, ctx: DoctorContext, world: World): Promise<CheckResult> {
  const ms = check.timeoutMs ?? defaultTimeoutMs
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: 'warn',
          message: `no answer within ${ms / 1000}s`,
          fix: 'run hms doctor --verbose again, or check this by hand',
        }),
      ms,
    )
  })
  const result = check
    .run(ctx, world)
    .catch((error: unknown): CheckResult => ({ status: 'fail', message: `check crashed: ${messageOf(error)}` }))
  try {
    return await Promise.race([result, late])
  } finally {
    clearTimeout(timer)
  }
}

export const failed = (reports: CheckReport[]): boolean => reports.some((r) => r.status === 'fail')

/** What the pending check needs of the queue as state.ts reads it: each entry's cache. */
export type PendingRead = Pick<Read<Pick<PendingEntry, 'cache'>>, 'entries' | 'warning'>
