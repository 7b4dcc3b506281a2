import { formatBytes, plural } from '../lib/format.js'
import type { Output } from './output.js'
import { which } from '../lib/which.js'
import { capture } from '../lib/process.js'
import type { Summary } from '../plan/schema.js'
import { cacheNames } from './summary.js'

/** `--notify`: a desktop notification when a push ends; silently skipped without notify-send. */
export async function notify(summary: Summary, env: Record<string, string | undefined>, out: Output): Promise<void> {
  const sender = which('notify-send', env)
  if (!sender) return void out.detail('notify-send not found: no desktop notification')
  const { push } = summary
  const cache = cacheNames(summary)
  const failed = push.failed.length > 0
  const title = failed ? `hms: push to ${cache} failed` : `hms: pushed to ${cache}`
  const body = failed
    ? `${plural(push.failed.length, 'path')} queued; run hms push --pending`
    : `${plural(push.pushed.length, 'path')}, ${formatBytes(push.bytes)}`
  await capture(sender, ['--app-name=hms', ...(failed ? ['--urgency=critical'] : []), title, body], {
    env,
    timeoutMs: 5000,
  })
}
