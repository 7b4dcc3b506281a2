import { loadConfig } from '../state/config-file.js'
import { ExitCode, HmsError } from '../lib/errors.js'
import { makePlan } from '../plan/plan.js'
import { resolveRoots } from '../local/roots.js'
import { printVerify } from '../ui/summary.js'
import { defaultLimits, failedVerify, verifyClosure } from '../backends/verify.js'
import { outputFor, type Command } from './command.js'

const verify: Command = async (args, io) => {
  const { options } = args
  const config = await loadConfig(io.env)
  const plan = makePlan({
    options: { ...options, push: true },
    passthrough: [],
    config,
    env: io.env,
    hostname: io.hostname,
  })
  const out = await outputFor(io, options)
  const { roots, generation } = resolveRoots(args.positionals, io)
  const limits = {
    jobs: options.verifyJobs ?? defaultLimits.jobs,
    timeoutMs: (options.timeout ?? defaultLimits.timeoutMs / 1000) * 1000,
  }
  const input = { target: plan.target!, cache: plan.cache!, roots, generation, env: io.env, limits }
  try {
    const result = await verifyClosure(input)
    if (options.json) out.json(result)
    else printVerify(result, out)
    return result.ok ? ExitCode.ok : ExitCode.failure
  } catch (error) {
    // With --json the reason goes to stdout in verify's own shape, so scripts see why, not only exit 2.
    if (error instanceof HmsError && options.json)
      throw new HmsError(error.message, {
        exitCode: error.exitCode,
        hint: error.hint,
        document: failedVerify(input, error),
      })
    throw error
  }
}

export default verify
