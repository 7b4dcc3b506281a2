import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ReportParser, type ReportEvent } from '../../src/backends/cachix/report.js'

const nixBase32 = '0123456789abcdfghijklmnpqrsvwxyz'
const storePath = fc
  .tuple(fc.array(fc.constantFrom(...nixBase32), { minLength: 32, maxLength: 32 }), fc.stringMatching(/^[a-z]{6}$/))
  .map(([hash, name]) => `/nix/store/${hash.join('')}-pkg-${name}`)
const size = fc
  .tuple(fc.integer({ min: 0, max: 99_999 }), fc.constantFrom('B', 'KiB', 'MiB', 'GiB', 'TiB'))
  .map(([n, unit]) => `${(n / 100).toFixed(2)} ${unit}`)
const ansi = fc.constantFrom('', '\u001b[91m', '\u001b[93m', '\u001b[0m', '\u001b[1;31m')
/** Bytes cachix might print that hms does not know: anything but a newline, invalid UTF-8 and \r included. */
const unknown = fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a)))

type Segment =
  | { kind: 'push'; path: string; bytes: Buffer }
  | { kind: 'fail'; path: string; bytes: Buffer }
  | { kind: 'text'; bytes: Buffer }

/** A report as cachix writes it: announcements, ✗ glued to whatever follows, unknown lines between. */
const report = fc
  .array(fc.tuple(fc.constantFrom('push', 'fail', 'text'), storePath, size, ansi, unknown, fc.boolean()), {
    maxLength: 40,
  })
  .map((raw) => {
    const segments: Segment[] = []
    const announced: string[] = []
    for (const [kind, path, sz, colour, text, retry] of raw) {
      if (kind === 'push') {
        announced.push(path)
        segments.push({
          kind,
          path,
          bytes: Buffer.from(`${retry ? `${colour}retry #2 \u001b[0m` : ''}Pushing ${path} (${sz})\n`),
        })
      } else if (kind === 'fail' && announced.length) {
        const failed = announced[text.length % announced.length]!
        segments.push({ kind, path: failed, bytes: Buffer.from(`\u001b[91m✗ \u001b[0m${failed}`) })
      } else {
        // An empty line right after a glued ✗ only ends that ✗'s line (so does a lone \r: `\r\n` is a line
        // end); hms keeps no blank line for it.
        const lineEnd = text.length === 0 || (text.length === 1 && text[0] === 0x0d)
        const body = lineEnd && segments.at(-1)?.kind === 'fail' ? Buffer.from('x') : text
        segments.push({ kind: 'text', bytes: Buffer.concat([body, Buffer.from('\n')]) })
      }
    }
    return segments
  })

function parseInChunks(input: Buffer, cuts: number[]): ReportEvent[] {
  const parser = new ReportParser()
  const events: ReportEvent[] = []
  let last = 0
  for (const cut of [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b)) {
    events.push(...parser.feed(input.subarray(last, cut)))
    last = cut
  }
  events.push(...parser.feed(input.subarray(last)), ...parser.end())
  return events
}

const outputCases = { reports: 500, oddOutput: 5 }

describe('cachix output faults', () => {
  it('random reports in random chunks: never throws, every path read, unknown bytes passed through exactly', () => {
    fc.assert(
      fc.property(report, fc.array(fc.nat(), { maxLength: 12 }), (segments, cuts) => {
        const input = Buffer.concat(segments.map((s) => s.bytes))
        const events = parseInChunks(input, cuts)
        const passed = Buffer.concat(events.flatMap((e) => (e.kind === 'text' ? [e.raw] : [])))
        const expectedText = Buffer.concat(segments.flatMap((s) => (s.kind === 'text' ? [s.bytes] : [])))
        expect(passed.equals(expectedText)).toBe(true)
        expect(events.filter((e) => e.kind === 'failed').map((e) => (e as { path: string }).path)).toEqual(
          segments.filter((s) => s.kind === 'fail').map((s) => s.path),
        )
        expect(events.filter((e) => e.kind === 'pushing').map((e) => (e as { path: string }).path)).toEqual(
          segments.filter((s) => s.kind === 'push').map((s) => s.path),
        )
      }),
      { numRuns: outputCases.reports },
    )
  })

  it.each([
    ['a 1 MB line with no newline', Buffer.alloc(1024 * 1024, 0x61)],
    ['invalid UTF-8', Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x0a, 0xf0, 0x28, 0x8c, 0xbc])],
    ['\\r progress lines', Buffer.from('copying 1/3\rcopying 2/3\rcopying 3/3\n')],
    ['NUL and control bytes', Buffer.from([0, 1, 2, 27, 91, 0x0a, 0x7f])],
    ['a lone ✗ with no path', Buffer.from('✗ \n✗')],
  ])('%s: passed through byte for byte', (_name, bytes) => {
    const events = parseInChunks(bytes, [7, 65_536, 300_000])
    expect(Buffer.concat(events.map((e) => (e as { raw: Buffer }).raw)).equals(bytes)).toBe(true)
  })
})
