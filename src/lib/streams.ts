import type { Writable } from 'node:stream'

/** The first write error of each stream hms writes to. */
const failures = new WeakMap<object, NodeJS.ErrnoException>()

/**
 * From now on a failed write to `stream` (EPIPE: the reader left; ENOSPC: a full disk; EIO: the
 * terminal is gone) is remembered instead of crashing hms: the switch under way must finish.
 */
export function watchWrites(stream: Writable): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!failures.has(stream)) failures.set(stream, error)
  })
}

/** The first write error of `stream`, or of the stream it wraps (see redact.ts), if there was one. */
export function writeFailure(stream: object): NodeJS.ErrnoException | undefined {
  for (let s: object | null = stream; s; s = Object.getPrototypeOf(s) as object | null) {
    const failure = failures.get(s)
    if (failure) return failure
  }
  return undefined
}

/** `EPIPE: the reader closed it`, `ENOSPC: no space left on device`… */
export function describeFailure(error: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    EPIPE: 'the reader closed it',
    ENOSPC: 'no space left on device',
    EIO: 'input/output error',
  }
  const code = error.code ?? 'error'
  return `${code}: ${why[code] ?? error.message}`
}

/** Lets write errors already under way be reported (they are emitted on a later tick). */
export function flushed(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
}

/** Streams that already carry `--json`'s one document. */
const documented = new WeakSet<object>()

/** `--json`'s one document; an error after it (a late interrupt) must not add a second one. */
export function writeDocument(stream: Writable, document: unknown): void {
  documented.add(stream)
  stream.write(`${JSON.stringify(document, null, 2)}\n`)
}

export function hasDocument(stream: object): boolean {
  return documented.has(stream)
}
