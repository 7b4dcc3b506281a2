import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The executable `command` resolves to on env's PATH, as a shell would find it. */
export function which(command: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {}
  }
  return undefined
}
