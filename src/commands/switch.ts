import { outputFor, type Command } from './command.js'
import { loadConfig } from '../state/config-file.js'
import { makePlan } from '../plan/plan.js'
import { printPlan } from '../switch/render-plan.js'

const switchCommand: Command = async (args, io, { version }) => {
  const { options } = args
  const config = await loadConfig(io.env)
  const plan = makePlan({ options, passthrough: args.passthrough, config, env: io.env, hostname: io.hostname })
  const out = await outputFor(io, options)
  if (options.plan) {
    printPlan(plan, out, options.json, version)
    return 0
  }
  // Loaded only now: --plan must not pay for the runtime (the process runner, the report parser…).
  const { runSwitch } = await import('../switch/run.js')
  const { withRunSignals } = await import('../lib/interrupt.js')
  return withRunSignals(async () => {
    const summary = await runSwitch(plan, { env: io.env, cwd: io.cwd, out, version, json: options.json, self: io.self })
    if (options.json) out.json(summary)
    else (await import('../ui/summary.js')).printSummary(summary, out)
    // A background push notifies when it ends, from its own process.
    // notify-send's runner is loaded only here: --plan must not load child_process for it.
    if (options.notify && !summary.background && summary.push.attempted) {
      await (await import('../ui/notify.js')).notify(summary, io.env, out)
    }
    return summary.exitCode
  })
}

export default switchCommand
