// Whether cachix can push from here: installed, new enough, and with credentials somewhere.
import { existsSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { memo } from '../../lib/memo.js'
import { capture } from '../../lib/process.js'
import { which } from '../../lib/which.js'
import type { PushBlocker } from '../backend.js'
import type { Env } from '../../lib/env.js'

export const minimumCachix = [1, 7] as const

/** Where cachix would find credentials, without ever reading their value. */
export function credentialSource(env: Env): string | undefined {
  if (env.CACHIX_AUTH_TOKEN) return '$CACHIX_AUTH_TOKEN'
  if (env.CACHIX_SIGNING_KEY) return '$CACHIX_SIGNING_KEY'
  const dirs = [
    env.XDG_CONFIG_HOME && join(env.XDG_CONFIG_HOME, 'cachix'),
    env.HOME && join(env.HOME, '.config', 'cachix'),
  ]
  return dirs
    .map((dir) => dir && join(dir, 'cachix.dhall'))
    .find((file): file is string => Boolean(file && existsSync(file)))
}

function parseCachixVersion(output: string): [number, number, number] | undefined {
  const m = /cachix (\d+)\.(\d+)(?:\.(\d+))?/.exec(output)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined
}

function isSupportedCachix(version: readonly number[]): boolean {
  const [major = 0, minor = 0] = version
  return major > minimumCachix[0] || (major === minimumCachix[0] && minor >= minimumCachix[1])
}

/** `cachix --version`, asked once per cachix binary (path, size, mtime) and remembered. */
async function cachixVersion(
  cachix: string,
  env: Env,
  timeoutMs: number,
): Promise<[number, number, number] | undefined> {
  let key: string
  try {
    const real = realpathSync(cachix)
    const { size, mtimeMs } = statSync(real)
    key = `${real}\t${size}\t${mtimeMs}\t`
  } catch {
    key = ''
  }
  const remembered = memo(env, 'cachix-version')
  const known = key ? remembered.get() : undefined
  if (known?.startsWith(key)) return parseCachixVersion(known.slice(key.length))
  const result = await capture(cachix, ['--version'], { env, timeoutMs })
  const version = parseCachixVersion(`${result.stdout}\n${result.stderr}`)
  if (key && version) remembered.set(`${key}cachix ${version.join('.')}`)
  return version
}

/**
 * Can `cachix watch-exec` push? Checked before anything runs: cachix without credentials would refuse to run the switch
 * at all.
 */
export async function checkCachix(env: Env, timeoutMs = 10_000): Promise<PushBlocker | undefined> {
  const cachix = which('cachix', env)
  if (!cachix) {
    return {
      reason: 'cachix-missing',
      message: 'cachix not found on PATH',
      fix: 'install it (nix profile install nixpkgs#cachix) or use --no-push',
    }
  }
  const version = await cachixVersion(cachix, env, timeoutMs)
  if (!version) {
    return {
      reason: 'cachix-unreadable',
      message: `could not read the version of ${cachix}`,
      fix: 'check that `cachix --version` works',
    }
  }
  if (!isSupportedCachix(version)) {
    return {
      reason: 'cachix-too-old',
      message: `cachix ${version.join('.')} is too old (watch-exec needs ${minimumCachix.join('.')}+)`,
      fix: 'upgrade: nix profile upgrade cachix',
    }
  }
  if (!credentialSource(env)) {
    return {
      reason: 'no-credentials',
      message: 'no Cachix credentials found',
      fix: 'run `cachix authtoken <token>` or set CACHIX_AUTH_TOKEN',
    }
  }
  return undefined
}
