import { realpathSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { loadConfig } from '../config.js'
import { ExitCode, HmsError, usageError } from '../errors.js'
import { currentGeneration, profileCandidates } from '../generation.js'
import { Output } from '../output.js'
import { makePlan } from '../plan.js'
import { printVerify } from '../summary.js'
import { defaultLimits, failedVerify, verifyClosure } from '../verify.js'
import type { Command } from './index.js'

const verify: Command = async (args, io) => {
  const { options } = args
  const config = await loadConfig(io.env)
  const plan = makePlan({ options: { ...options, push: true }, passthrough: [], config, env: io.env, hostname: io.hostname })
  const out = await Output.create({ stdout: io.stdout, stderr: io.stderr, env: io.env, quiet: options.quiet, verbose: options.verbose, json: options.json })
  const { roots, generation } = rootsOf(args.positionals, io)
  const limits = { jobs: options.verifyJobs ?? defaultLimits.jobs, timeoutMs: (options.timeout ?? defaultLimits.timeoutMs / 1000) * 1000 }
  const input = { target: plan.target!, cache: plan.cache!, roots, generation, env: io.env, limits }
  try {
    const result = await verifyClosure(input)
    if (options.json) out.json(result)
    else printVerify(result, out)
    return result.ok ? ExitCode.ok : ExitCode.failure
  } catch (error) {
    // With --json the reason goes to stdout too, so scripts see why, not only exit 2.
    if (error instanceof HmsError && options.json) out.json(failedVerify(input, error))
    throw error
  }
}

export default verify

/** Explicit paths (links like ./result resolved), or the current home-manager generation. */
function rootsOf(positionals: string[], io: { env: Record<string, string | undefined>; cwd: string }): { roots: string[]; generation: number | null } {
  if (positionals.length === 0) {
    const current = currentGeneration(io.env)
    if (!current) throw new HmsError('no home-manager generation found', { exitCode: ExitCode.usage, hint: `looked at ${profileCandidates(io.env).join(' and ')}; switch first, or pass store paths` })
    return { roots: [current.path], generation: current.number }
  }
  const roots = positionals.map((p) => {
    let real: string
    try {
      real = realpathSync(isAbsolute(p) ? p : join(io.cwd, p))
    } catch {
      throw usageError(`${p} does not exist`, 'pass store paths such as /nix/store/…-home-manager-generation')
    }
    if (!/^\/nix\/store\/[0-9a-z]{32}-[^/]+$/.test(real)) throw usageError(`${p} is not a store path (${real})`)
    return real
  })
  return { roots, generation: null }
}
