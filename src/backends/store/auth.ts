import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { which } from '../../lib/which.js'
import { capture } from '../../lib/process.js'
import { basicAuth, urlParts, withoutCredentials } from '../../plan/store-url.js'
import type { Env } from '../../lib/env.js'

/**
 * Credentials for an HTTP cache, from where Nix takes them too: the URL itself, else the netrc
 * file Nix is configured with (`netrc-file`, default /etc/nix/netrc). Never printed or stored.
 */
export async function httpAuthHeaders(url: string, env: Env): Promise<Record<string, string>> {
  const inUrl = basicAuth(url)
  const host = urlParts(url)?.host
  const login = inUrl ?? (host ? netrcLogin(readNetrc(await netrcFile(env)), host) : undefined)
  return login ? { authorization: `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}` } : {}
}

const netrcFiles = new Map<string, Promise<string | undefined>>()

/** `netrc-file` as Nix sees it (NIX_CONFIG and nix.conf included), asked once per process. */
export function netrcFile(env: Env): Promise<string | undefined> {
  const key = `${env.NIX_CONFIG ?? ''}\0${env.NIX_CONF_DIR ?? ''}\0${env.NIX_USER_CONF_FILES ?? ''}\0${env.HOME ?? ''}`
  let found = netrcFiles.get(key)
  if (!found) {
    found = (async () => {
      const nix = which('nix', env)
      if (!nix) return undefined
      const result = await capture(nix, ['--extra-experimental-features', 'nix-command', 'show-config'], {
        env,
        timeoutMs: 10_000,
      })
      return /^netrc-file = (.+)$/m.exec(result.stdout)?.[1]?.trim() || undefined
    })()
    netrcFiles.set(key, found)
  }
  return found
}

function readNetrc(file: string | undefined): string {
  if (!file) return ''
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

/** The login for `host` in a netrc text (`machine`, then `default`), as curl picks it. */
export function netrcLogin(text: string, host: string): { user: string; password: string } | undefined {
  const tokens = text.split(/\s+/).filter(Boolean)
  let current: { machine?: string; user?: string; password?: string } | undefined
  const entries: (typeof current)[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === 'machine' || token === 'default') {
      current = token === 'machine' ? { machine: tokens[++i] } : {}
      entries.push(current)
    } else if (current && token === 'login') current.user = tokens[++i]
    else if (current && token === 'password') current.password = tokens[++i]
  }
  const entry = entries.find((e) => e?.machine === host) ?? entries.find((e) => e && e.machine === undefined)
  return entry?.user !== undefined ? { user: entry.user, password: entry.password ?? '' } : undefined
}

/**
 * For `nix copy` to a URL with credentials: the URL without them, and a netrc file (0600, in a
 * 0700 temp dir, removed by `done`) holding them first and the user's own netrc after, so the
 * password never appears in nix's argv or in the lines nix prints.
 */
export async function nixCopyCredentials(
  url: string,
  env: Env,
): Promise<{ url: string; args: string[]; done(): void }> {
  const login = basicAuth(url)
  const host = urlParts(url)?.host
  const scheme = urlParts(url)?.scheme
  if (!login || !host || (scheme !== 'http' && scheme !== 'https')) return { url, args: [], done() {} }
  const dir = mkdtempSync(join(env.TMPDIR || tmpdir(), 'hms-netrc-'))
  chmodSync(dir, 0o700)
  const file = join(dir, 'netrc')
  const own = readNetrc(await netrcFile(env))
  writeFileSync(file, `machine ${host} login ${login.user} password ${login.password}\n${own}`, { mode: 0o600 })
  return {
    url: withoutCredentials(url),
    args: ['--option', 'netrc-file', file],
    done: () => rmSync(dir, { recursive: true, force: true }),
  }
}
