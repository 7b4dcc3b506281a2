import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { usesNarinfoCache } from '../../plan/target.js'
import type { Env } from '../../lib/env.js'

/**
 * The environment for one `nix copy` to `url`: for a binary cache, an empty XDG_CACHE_HOME of its
 * own (a new 0700 dir, removed by `done`), so Nix's narinfo lookup cache holds only what the cache
 * answered in this session and nothing an earlier one remembered (see usesNarinfoCache).
 */
export function freshLookupCache(url: string, env: Env): { env: Env; done(): void } {
  if (!usesNarinfoCache(url)) return { env, done() {} }
  const dir = mkdtempSync(join(env.TMPDIR || tmpdir(), 'hms-nix-cache-'))
  return {
    env: { ...env, XDG_CACHE_HOME: dir },
    done: () => rmSync(dir, { recursive: true, force: true }),
  }
}
