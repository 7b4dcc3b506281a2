import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { capture } from '../../lib/process.js'
import { urlParts } from '../../plan/store-url.js'
import type { Env } from '../../lib/env.js'

export interface SshShare {
  /** The environment for nix: NIX_SSHOPTS with the shared connection. */
  env: Env
  close(): Promise<void>
}

/**
 * One ssh connection shared by the nix calls of a push to an ssh store that asks the store before
 * and after the copy (`share`): Nix 2.8 starts ssh afresh for each, and a login costs more than a
 * small copy. A push that is one `nix copy` session gets only the connect timeout.
 * The user's own NIX_SSHOPTS come first, so their ControlMaster settings win (ssh takes the first
 * value). `close` ends the master; ControlPersist ends it anyway if hms is killed.
 */
export function shareSsh(url: string, env: Env, share = true): SshShare {
  const parts = urlParts(url)
  if (!parts || (parts.scheme !== 'ssh' && parts.scheme !== 'ssh-ng')) return { env, async close() {} }
  // A host that is down answers "unreachable" within seconds, whatever the copy's length.
  const timeout = '-o ConnectTimeout=15'
  // One session only (no presence check around the copy): a master and its `ssh -O exit` would be work for nothing.
  if (!share) return { env: { ...env, NIX_SSHOPTS: `${env.NIX_SSHOPTS ?? ''} ${timeout}`.trim() }, async close() {} }
  // A unix socket path has ~100 bytes: a short private dir.
  const dir = mkdtempSync(join(shortTmp(env), 'hms-ssh-'))
  const socket = join(dir, 'm')
  const shared = `-o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=120 ${timeout}`
  const host = `${parts.userinfo ? `${parts.userinfo.split(':')[0]}@` : ''}${parts.host}`
  return {
    env: { ...env, NIX_SSHOPTS: `${env.NIX_SSHOPTS ?? ''} ${shared}`.trim() },
    async close() {
      try {
        await capture(
          'ssh',
          [...(env.NIX_SSHOPTS ?? '').split(/\s+/).filter(Boolean), '-o', `ControlPath=${socket}`, '-O', 'exit', host],
          { env, timeoutMs: 5000 },
        )
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function shortTmp(env: Env): string {
  const candidate = env.TMPDIR || tmpdir()
  return candidate.length <= 60 ? candidate : '/tmp'
}
