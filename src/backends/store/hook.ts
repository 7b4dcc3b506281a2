import { chmodSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { shellQuote } from '../../lib/format.js'
import type { Env } from '../../lib/env.js'

/**
 * Nix waits for the post-build hook after every build, so it only appends one line and exits:
 * about 1 ms under dash, against about 70 ms for a node script and about 190 ms when it asks
 * nix-store for the outputs itself. Output paths are resolved by hms in one batch instead.
 * It never fails: a failing hook fails the build.
 */
export function hookScript(log: string): string {
  return `#!/bin/sh
printf '%s %s\\n' "$DRV_PATH" "$OUT_PATHS" >> ${shellQuote(log)} 2>/dev/null
exit 0
`
}

export function hookConfig(script: string): string {
  return `post-build-hook = ${script}\n`
}

/** The files nix reads when NIX_USER_CONF_FILES is unset: XDG_CONFIG_HOME, then XDG_CONFIG_DIRS. */
export function userConfFiles(env: Env): string[] {
  const home = env.XDG_CONFIG_HOME || join(env.HOME ?? '', '.config')
  const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean)
  return [home, ...dirs].map((dir) => join(dir, 'nix', 'nix.conf'))
}

/**
 * The environment for a run with the hook. Nix applies NIX_USER_CONF_FILES last to first, so the
 * hook's file goes first and the user's files stay in effect behind it (as cachix does). NIX_CONFIG
 * is applied after all files: only when it sets a hook itself does ours have to go there too.
 */
export function hookEnv(env: Env, confFile: string, script: string): Env {
  const files =
    env.NIX_USER_CONF_FILES !== undefined ? [confFile, env.NIX_USER_CONF_FILES] : [confFile, ...userConfFiles(env)]
  const next: Env = { ...env, NIX_USER_CONF_FILES: files.filter(Boolean).join(':') }
  if (env.NIX_CONFIG && /^\s*post-build-hook\s*=/m.test(env.NIX_CONFIG))
    next.NIX_CONFIG = `${env.NIX_CONFIG}\n${hookConfig(script)}`
  return next
}

export interface HookLines {
  /** Derivations whose outputs must be looked up ($OUT_PATHS is empty on Nix 2.8). */
  drvs: string[]
  outputs: string[]
}

export function parseHookLines(lines: readonly string[]): HookLines {
  const drvs: string[] = []
  const outputs: string[] = []
  for (const line of lines) {
    const [drv = '', ...outs] = line.trim().split(/\s+/)
    const paths = outs.filter((p) => p.startsWith('/'))
    if (paths.length > 0) outputs.push(...paths)
    else if (drv.endsWith('.drv')) drvs.push(drv)
  }
  return { drvs, outputs }
}

/** A post-build hook registered for one run: its env for the child, and what it has recorded so far. */
export class Hook {
  private offset = 0
  private partial = ''

  private constructor(
    readonly dir: string,
    readonly log: string,
    readonly env: Env,
  ) {}

  static install(env: Env): Hook {
    const dir = mkdtempSync(join(env.TMPDIR || tmpdir(), 'hms-hook-'))
    const log = join(dir, 'built')
    const script = join(dir, 'post-build-hook')
    const conf = join(dir, 'nix.conf')
    writeFileSync(log, '')
    // nix-daemon runs the hook as root for a trusted user; it must be able to read and run it.
    chmodSync(dir, 0o755)
    writeFileSync(script, hookScript(log), { mode: 0o755 })
    writeFileSync(conf, hookConfig(script))
    return new Hook(dir, log, hookEnv(env, conf, script))
  }

  /** Lines appended since the last call; a line still being written waits for the next. */
  drain(): string[] {
    const fd = openSync(this.log, 'r')
    try {
      const chunks: Buffer[] = []
      const buffer = Buffer.alloc(64 * 1024)
      const read = () => readSync(fd, buffer, 0, buffer.length, this.offset)
      for (let n = read(); n > 0; n = read()) {
        chunks.push(Buffer.from(buffer.subarray(0, n)))
        this.offset += n
      }
      const text = this.partial + Buffer.concat(chunks).toString('utf8')
      const lines = text.split('\n')
      this.partial = lines.pop() ?? ''
      return lines.filter((line) => line.trim() !== '')
    } finally {
      closeSync(fd)
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
