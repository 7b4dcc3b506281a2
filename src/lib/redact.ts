import type { Writable } from 'node:stream'

/** `s3://KEYID:SECRET@bucket`: the access key id is half of the credential, so all of it goes. */
const s3Credentials = /\bs3:\/\/[^\s/?#@'"]+@/gi
/** `scheme://user:password@host` → `scheme://user:***@host`: a cache URL may carry its credentials. */
const credentials = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]+@/gi
/** The same without a scheme, as Nix and ssh quote it: `cannot connect to 'user:password@host'`. */
const bareCredentials = /(^|[\s'"(=<])([^\s/:@'"()<>]+):[^\s/@'"]+@(?=[A-Za-z0-9[])/g

export function redact(text: string): string {
  return text.replace(s3Credentials, 's3://***@').replace(credentials, '$1:***@').replace(bareCredentials, '$1$2:***@')
}

/**
 * The same stream, except that whatever hms writes to it passes `redact` first. Everything hms
 * prints goes through here (home-manager's own output does not pass through hms at all).
 */
export function redacting<T extends Writable>(stream: T): T {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
  const wrapped = Object.create(stream) as T
  wrapped.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(redact(chunk), ...rest)
    if (Buffer.isBuffer(chunk)) {
      const text = chunk.toString('latin1')
      const clean = redact(text)
      return write(clean === text ? chunk : Buffer.from(clean, 'latin1'), ...rest)
    }
    return write(chunk, ...rest)
  }) as T['write']
  return wrapped
}
