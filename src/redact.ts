import type { Writable } from 'node:stream'

/** `scheme://user:password@host` → `scheme://user:***@host`: a cache URL may carry its credentials. */
const credentials = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]+@/gi

export function redact(text: string): string {
  return text.replace(credentials, '$1:***@')
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
