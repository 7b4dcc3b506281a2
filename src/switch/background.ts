import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { formatIdentity, identityOf } from '../lib/identity.js'
import type { Plan } from '../plan/plan.js'
import type { State } from '../state/state.js'
import { hasCredentials } from '../plan/store-url.js'

interface Ctx {
  env: Record<string, string | undefined>
  cwd: string
  self: string[]
}

/** The `hms push` arguments that reproduce this plan's push in another process. */
export function backgroundArgs(
  plan: Pick<Plan, 'cache' | 'profile' | 'jobs' | 'compressionMethod' | 'retries'>,
  paths: string[],
  notify = false,
): string[] {
  return [
    // No cache with `--pending` means every cache in the queue.
    'push',
    ...(plan.cache ? ['--cache', plan.cache] : []),
    ...(plan.profile ? ['--profile', plan.profile] : []),
    ...(plan.jobs ? ['--push-jobs', String(plan.jobs)] : []),
    ...(plan.compressionMethod ? ['--compression-method', plan.compressionMethod] : []),
    '--retries',
    String(plan.retries),
    ...(notify ? ['--notify'] : []),
    ...paths,
  ]
}

function secretUrl(plan: Plan): string | undefined {
  return plan.target?.kind === 'store' && hasCredentials(plan.target.url) ? plan.target.url : undefined
}

/** Starts `hms push …` detached, logging to the state dir; it records its own outcome in queue and history. */
export function spawnBackgroundPush(
  ctx: Ctx,
  state: State,
  plan: Plan,
  paths: string[],
  notify = false,
): { pid: number; log: string } {
  state.ensureDir()
  const log = state.file('background.log')
  const fd = openSync(log, 'a', 0o600)
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} hms ${backgroundArgs(plan, paths, notify).join(' ')}\n`)
    const [node, ...script] = ctx.self
    const child = spawn(node!, [...script, ...backgroundArgs(plan, paths, notify)], {
      cwd: ctx.cwd,
      // The argv (visible in ps) names the cache without credentials; the child finds them again
      // in the config, netrc or here, in its environment, which only the same user can read.
      env: { ...ctx.env, HMS_BACKGROUND: '1', ...(secretUrl(plan) ? { HMS_CACHE: secretUrl(plan) } : {}) },
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    child.unref()
    const pid = child.pid ?? 0
    // The child takes push.lock only once node has started; until then, status finds it here.
    writeFileSync(state.file('background.pid'), `${formatIdentity(identityOf(pid))}\n`, { mode: 0o600 })
    return { pid, log }
  } finally {
    closeSync(fd)
  }
}
