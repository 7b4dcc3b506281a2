#!/usr/bin/env node
// Runs before `npm run demo` and `npm test`: on a fresh clone, install the locked dependencies first,
// so the README's two commands are all a newcomer types.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const tools = ['tsup', 'vitest', 'biome']
if (tools.some((tool) => !existsSync(join(repo, 'node_modules', '.bin', tool)))) {
  console.error('installing dependencies (npm ci)…')
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repo, stdio: 'inherit' })
  process.exit(npm.status ?? 1)
}
