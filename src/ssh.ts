import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { capture } from './proc.js'
import { urlParts } from './store-url.js'

type Env = Record<string, string | undefined>

export interface SshShare {
  /** The environment for nix: NIX_SSHOPTS with the shared connection. */
  env: Env
  close(): Promise<void>
}

/**
 * One ssh connection shared by every nix call of a push to an ssh store (copy, confirm, the next
 * batch): Nix 2.8 starts ssh afresh for each, and a login costs more than a small batch's copy.
 * The user's own NIX_SSHOPTS come first, so their ControlMaster settings win (ssh takes the first
 * value). `close` ends the master; ControlPersist ends it anyway if hms is killed.
 */
export function shareSsh(url: string, env: Env): SshShare {
  const parts = urlParts(url)
  if (!parts || (parts.scheme !== 'ssh' && parts.scheme !== 'ssh-ng')) return { env, async close() {} }
  // A unix socket path has ~100 bytes: a short private dir.
  const dir = mkdtempSync(join(shortTmp(env), 'hms-ssh-'))
  const socket = join(dir, 'm')
  // A host that is down answers "unreachable" within seconds, whatever the copy's length.
  const shared = `-o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=120 -o ConnectTimeout=15`
  const host = `${parts.userinfo ? `${parts.userinfo.split(':')[0]}@` : ''}${parts.host}`
  return {
    env: { ...env, NIX_SSHOPTS: `${env.NIX_SSHOPTS ?? ''} ${shared}`.trim() },
    async close() {
      try {
        await capture('ssh', [...(env.NIX_SSHOPTS ?? '').split(/\s+/).filter(Boolean), '-o', `ControlPath=${socket}`, '-O', 'exit', host], { env, timeoutMs: 5000 })
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function shortTmp(env: Env): string {
  const candidate = env.TMPDIR || tmpdir()
  return candidate.length <= 60 ? candidate : '/tmp'
}
