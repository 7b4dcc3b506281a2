import type { Output } from '../ui/output.js'

/** The world a switch or a push runs in: environment, output, and how to start hms again. */
export interface Context {
  env: Record<string, string | undefined>
  cwd: string
  out: Output
  version: string
  json: boolean
  /** How to start hms again (for background pushes): node and the bin script. */
  self: string[]
}
