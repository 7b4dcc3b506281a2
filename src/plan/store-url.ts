/**
 * Store URLs as text: the rules a URL must meet before hms accepts it, and its credentials taken
 * apart. Pure, so the Nix module (nix/) can mirror the same table (see test/unit/store-url.test.ts).
 */

export interface UrlProblem {
  message: string
  hint: string
}

interface Parts {
  scheme: string
  /** `user:password` or `user`, undefined without `@`. */
  userinfo?: string
  /** Host without port, or an S3 bucket. */
  host: string
  /** From the first `/` after the authority up to `?` or `#`. */
  path: string
  /** `?…` and `#…`, as written. */
  rest: string
}

const schemeRe = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//

/** Splits `scheme://[userinfo@]host[:port][/path][?query]`; undefined when there is no `scheme://`. */
export function urlParts(url: string): Parts | undefined {
  const scheme = schemeRe.exec(url)
  if (!scheme) return undefined
  const after = url.slice(scheme[0].length)
  const authorityEnd = after.search(/[/?#]/)
  const authority = authorityEnd < 0 ? after : after.slice(0, authorityEnd)
  const tail = authorityEnd < 0 ? '' : after.slice(authorityEnd)
  const at = authority.lastIndexOf('@')
  const userinfo = at < 0 ? undefined : authority.slice(0, at)
  const hostPort = authority.slice(at + 1)
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '')
  const restStart = tail.search(/[?#]/)
  return {
    scheme: scheme[1]!.toLowerCase(),
    ...(userinfo !== undefined ? { userinfo } : {}),
    host,
    path: restStart < 0 ? tail : tail.slice(0, restStart),
    rest: restStart < 0 ? '' : tail.slice(restStart),
  }
}

/** One path segment character as Nix 2.8's URL parser takes it (`%XX` is kept literally by `file://`). */
const nixPathRe = /^(?:[A-Za-z0-9\-._~!$&'"()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/

/**
 * Why Nix could never push to `url`, or undefined when it looks usable. The rules:
 *
 * | scheme            | needs                                                                 |
 * |-------------------|-----------------------------------------------------------------------|
 * | any               | no spaces, control or non-ASCII characters (Nix rejects the URL)      |
 * | file              | `file://` + an absolute path other than `/`, in Nix's URL characters |
 * | http, https       | a host                                                                |
 * | s3                | a bucket                                                              |
 * | ssh, ssh-ng       | a host (`user@` optional)                                             |
 *
 * The scheme itself (one of storeSchemes) is checked by the caller, which knows the alternatives.
 */
export function storeUrlProblem(url: string): UrlProblem | undefined {
  const parts = urlParts(url)
  if (!parts) return { message: 'is not a store URL', hint: 'give it a scheme, e.g. file:///mnt/nas/nix-cache' }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f-\uffff]/.test(url)) {
    return {
      message: 'contains a space or a character Nix does not accept in a URL',
      hint: 'Nix refuses such URLs: use a path or host name without them',
    }
  }
  const { scheme, host, path } = parts
  if (scheme === 'file') {
    if (!url.slice('file://'.length).startsWith('/')) {
      return {
        message: 'is not an absolute file:// URL',
        hint:
          'a directory cache is file:// plus an absolute path, e.g. ' +
          `file:///${url.slice('file://'.length).replace(/^\/+/, '')}`,
      }
    }
    const dir = url.slice('file://'.length).split(/[?#]/)[0]!
    if (/^\/+$/.test(dir))
      return {
        message: 'names the root directory',
        hint: 'give the cache a directory of its own, e.g. file:///var/cache/nix',
      }
    if (!nixPathRe.test(dir))
      return {
        message: 'has a path Nix does not accept',
        hint: 'use letters, digits and - . _ ~ in the directory name',
      }
    return undefined
  }
  if (host === '') {
    const what = scheme === 's3' ? 'a bucket' : 'a host'
    const example =
      scheme === 's3'
        ? 's3://my-bucket?region=eu-west-1'
        : scheme.startsWith('ssh')
          ? `${scheme}://user@host`
          : `${scheme}://cache.example.org${path || ''}`
    return {
      message: `has no ${scheme === 's3' ? 'bucket' : 'host'}`,
      hint: `a ${scheme}:// cache needs ${what}, e.g. ${example}`,
    }
  }
  return undefined
}

/**
 * The URL without the secret part of its credentials: the password for ssh (the user names an
 * account, not a secret), the whole `user:password@` for http(s) and s3 (an S3 access key id is
 * half of a credential). This is the form hms stores, logs and passes on argv.
 */
export function withoutCredentials(url: string): string {
  const parts = urlParts(url)
  if (!parts || parts.userinfo === undefined) return url
  const prefix = url.slice(0, url.indexOf('://') + 3)
  const after = url.slice(prefix.length)
  const end = after.search(/[/?#]/)
  const rest = after.slice(after.lastIndexOf('@', (end < 0 ? after.length : end) - 1) + 1)
  if (parts.scheme === 'ssh' || parts.scheme === 'ssh-ng') {
    const user = parts.userinfo.split(':')[0]!
    return user ? `${prefix}${user}@${rest}` : `${prefix}${rest}`
  }
  return prefix + rest
}

/** Whether `url` carries a secret that withoutCredentials would take out. */
export function hasCredentials(url: string): boolean {
  return withoutCredentials(url) !== url
}

/** `user` and `password` from `http(s)://user:password@…`, percent-decoded, for an Authorization header. */
export function basicAuth(url: string): { user: string; password: string } | undefined {
  const userinfo = urlParts(url)?.userinfo
  if (!userinfo) return undefined
  const colon = userinfo.indexOf(':')
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  }
  return colon < 0
    ? { user: decode(userinfo), password: '' }
    : { user: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) }
}
