import { backendFor } from '../backends/for-target.js'
import { shellJoin } from '../lib/format.js'
import type { Output } from '../ui/output.js'
import type { Plan } from '../plan/plan.js'

/** How the push happens: inside the switch (watch-exec, hook) or after it (generation, background). */
function pushRow(plan: Plan, dim: (text: string) => string): string {
  const after = plan.background ? 'after the switch, in the background' : 'after the switch'
  if (plan.mode === 'generation') {
    return `${shellJoin(plan.pushCommand ?? [])} ${dim(`<the new generation>  (${after})`)}`
  }
  if (plan.pushCommand)
    return (
      `${shellJoin(plan.pushCommand)} ` +
      `${dim("<what the switch builds: hms's post-build hook records it, pushed once home-manager exits>")}`
    )
  return dim('what the switch builds, by cachix watch-exec as it runs')
}

/** The signing before the copy (an ssh store keeps the signatures it is sent): the same paths. */
function signRow(plan: Plan, dim: (text: string) => string): string {
  const what = plan.mode === 'generation' ? '<the new generation>' : '<what the switch builds>'
  return `${shellJoin(plan.signCommand ?? [])} ${dim(what)}`
}

/** `--plan`: what would run and where each choice came from. Goes to stdout: it is the command's output. */
export function printPlan(plan: Plan, out: Output, json: boolean, version: string): void {
  // Every --json document names the hms that wrote it.
  if (json) {
    out.json({ version, ...plan })
    return
  }
  const { color } = out
  const from = (source: string | undefined) => (source ? color.dim(`  (from ${source})`) : '')
  const rows: [string, string][] = [
    ['profile', (plan.profile ?? '(none)') + from(plan.sources.profile)],
    ['host', plan.host + from(plan.sources.host)],
    ['user', plan.user],
    ['cache', plan.push ? plan.cache + from(plan.sources.cache) : '(not pushing: --no-push)'],
    ['flake', plan.flake ? plan.flake + from(plan.sources.flake) : color.dim('(home-manager decides)')],
    ['command', shellJoin(plan.command)],
    ...(plan.push && plan.signCommand ? [['sign', signRow(plan, color.dim)] as [string, string]] : []),
    ...(plan.push ? [['push', pushRow(plan, color.dim)] as [string, string]] : []),
  ]
  // What the backend really starts, where that is more than the command above (cachix's stderr bypass).
  const runs =
    plan.push && plan.target && plan.mode === 'watch-exec' ? backendFor(plan.target).runs(plan) : plan.command
  if (out.options.verbose && shellJoin(runs) !== shellJoin(plan.command)) rows.push(['runs', shellJoin(runs)])
  const lines = rows.map(([key, value]) => `${key.padEnd(8)} ${value}`)
  for (const note of plan.notes) lines.push(color.dim(`note: ${note}`))
  out.options.stdout.write(`${lines.join('\n')}\n`)
}
