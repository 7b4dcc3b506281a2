import { parseBytes, ansiPattern } from '../../lib/format.js'

/** One thing cachix said on stderr, parsed (see ../shared/cachix-facts.md). */
export type ReportEvent =
  | { kind: 'pushing'; path: string; bytes?: number; retry?: number }
  | { kind: 'pushed'; path: string; bytes?: number }
  | { kind: 'failed'; path: string }
  | { kind: 'header'; total: number; present: number; cache: string }
  | { kind: 'nothing' }
  | { kind: 'done' }
  | { kind: 'untrusted' }
  | { kind: 'text'; raw: Buffer }

/**
 * cachix's output is handled as latin1 "binary" strings, one char a byte, so unknown text goes back out byte for byte.
 */
const bytes = (text: string) => Buffer.from(text).toString('latin1')
const storePath = /^\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+/
const sizeUnit = String.raw`(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)`
const pushingLine = new RegExp(String.raw`^(?:retry #(\d+) )?Pushing (/nix/store/\S+) \(${sizeUnit}\)$`)
const pushedLine = new RegExp(String.raw`^${bytes('✓')} (/nix/store/\S+) \(${sizeUnit}\)$`)
const headerLine = /^Pushing (\d+) paths? \((\d+) are already present\) using \S+ to cache (\S+)/
const failMark = bytes('✗ ')
/** Words cachix may print right after a `✗ path` that has no newline. */
const gluedStarts = ['Pushing ', 'retry #', 'All done', 'Nothing to push', 'WARNING']

/**
 * Incremental parser for cachix's push report. Feed it chunks; it yields events, and hands back
 * text it does not understand byte for byte, so nothing cachix says is ever dropped.
 */
export class ReportParser {
  private pending = ''
  /** Announced paths by their hash: a `✗` names one of them, and the hash alone tells which. */
  private readonly announced = new Map<string, string>()

  /** A string is taken as UTF-8 text; a Buffer as cachix's raw bytes. */
  feed(chunk: Buffer | string): ReportEvent[] {
    this.pending += typeof chunk === 'string' ? bytes(chunk) : chunk.toString('latin1')
    const events: ReportEvent[] = []
    for (let newline = this.pending.indexOf('\n'); newline >= 0; newline = this.pending.indexOf('\n')) {
      events.push(...this.parseLine(this.pending.slice(0, newline), '\n'))
      this.pending = this.pending.slice(newline + 1)
    }
    return events
  }

  /** The stream ended: whatever is left is a last line without newline (often a `✗ path`). */
  end(): ReportEvent[] {
    const rest = this.pending
    this.pending = ''
    return rest ? this.parseLine(rest, '') : []
  }

  private parseLine(raw: string, eol: string): ReportEvent[] {
    const { text, rawIndex } = stripAnsi(raw.endsWith('\r') ? raw.slice(0, -1) : raw)
    const events: ReportEvent[] = []
    let start = 0
    while (start < text.length) {
      const rest = text.slice(start)
      if (rest.startsWith(failMark)) {
        const path = this.failedPath(rest.slice(failMark.length))
        if (path) {
          events.push({ kind: 'failed', path })
          start += failMark.length + path.length
          continue
        }
      }
      const glued = rest.indexOf(failMark, 1)
      const end = glued > 0 && storePath.test(rest.slice(glued + failMark.length)) ? start + glued : text.length
      const event = this.parseSegment(text.slice(start, end))
      const rawText =
        raw.slice(rawIndex(start), end === text.length ? raw.length : rawIndex(end)) + (end === text.length ? eol : '')
      events.push(event ?? { kind: 'text', raw: Buffer.from(rawText, 'latin1') })
      start = end
    }
    if (text.length === 0) events.push({ kind: 'text', raw: Buffer.from(raw + eol, 'latin1') })
    return events
  }

  private parseSegment(segment: string): ReportEvent | undefined {
    const m = pushingLine.exec(segment)
    if (m) {
      this.announced.set(hashOf(m[2]!), m[2]!)
      return { kind: 'pushing', path: m[2]!, bytes: parseBytes(m[3]!, m[4]!), ...(m[1] ? { retry: Number(m[1]) } : {}) }
    }
    const pushed = pushedLine.exec(segment)
    if (pushed) return { kind: 'pushed', path: pushed[1]!, bytes: parseBytes(pushed[2]!, pushed[3]!) }
    const header = headerLine.exec(segment)
    if (header) return { kind: 'header', total: Number(header[1]), present: Number(header[2]), cache: header[3]! }
    if (segment === 'All done.') return { kind: 'done' }
    if (segment.startsWith('Nothing to push')) return { kind: 'nothing' }
    if (segment.startsWith('WARNING: failed to register a post-build hook')) return { kind: 'untrusted' }
    return undefined
  }

  /**
   * The path after `✗ `: the announced path with its hash when there is one, else the store path minus any glued word.
   */
  private failedPath(rest: string): string | undefined {
    const known = this.announced.get(hashOf(rest))
    if (known && rest.startsWith(known)) return known
    const match = storePath.exec(rest)?.[0]
    if (!match) return undefined
    for (const word of gluedStarts) {
      const head = word.split(/[ #]/)[0]!
      if (match.endsWith(head) && rest.slice(match.length - head.length).startsWith(word))
        return match.slice(0, -head.length)
    }
    return match
  }
}

function hashOf(path: string): string {
  return path.slice('/nix/store/'.length, '/nix/store/'.length + 32)
}

/** Text without ANSI codes, and a map from its positions back to the raw string's. */
function stripAnsi(raw: string): { text: string; rawIndex: (i: number) => number } {
  const positions: number[] = []
  let text = ''
  let last = 0
  for (const m of raw.matchAll(ansiPattern)) {
    for (let i = last; i < m.index; i++) positions.push(i)
    text += raw.slice(last, m.index)
    last = m.index + m[0].length
  }
  for (let i = last; i < raw.length; i++) positions.push(i)
  text += raw.slice(last)
  return { text, rawIndex: (i) => (i >= positions.length ? raw.length : i === 0 ? 0 : positions[i]!) }
}
