import { describe, expect, it } from 'vitest'
import { ReportParser, type ReportEvent } from '../../src/backends/cachix/report.js'

const red = (s: string) => `\u001b[31m${s}\u001b[0m`
const yellow = (s: string) => `\u001b[33m${s}\u001b[0m`
const a = '/nix/store/0c2pjzqhcdv7fw6l9qa5vnj2p86bwm0v-hm-pkg-hello-2.12'
const b = '/nix/store/1d9v3hn1x6fb2qxv4n0xg1f3m4w8rkq7-home-manager-generation'
const c = '/nix/store/2k1a7cs2b5jfn2gq2b5dmm0v3rg4y8zz-source'

function parse(...chunks: string[]): ReportEvent[] {
  const parser = new ReportParser()
  return [...chunks.flatMap((chunk) => parser.feed(chunk)), ...parser.end()]
}

const texts = (events: ReportEvent[]) =>
  events.filter((e) => e.kind === 'text').map((e) => (e as { raw: Buffer }).raw.toString())

describe('ReportParser', () => {
  it.each([
    ['512.00 B', 512],
    ['1.50 KiB', 1536],
    ['1.23 MiB', Math.round(1.23 * 1024 ** 2)],
    ['2.00 GiB', 2 * 1024 ** 3],
    ['1.00 TiB', 1024 ** 4],
  ])('reads "Pushing … (%s)"', (size, bytes) => {
    expect(parse(`Pushing ${a} (${size})\n`)).toEqual([{ kind: 'pushing', path: a, bytes }])
  })

  it('reads retries and strips colours', () => {
    expect(parse(`${yellow('retry #2 ')}Pushing ${a} (1.00 KiB)\n`)).toEqual([
      { kind: 'pushing', path: a, bytes: 1024, retry: 2 },
    ])
  })

  it('splits ✗ lines glued to the next output', () => {
    const events = parse(
      `Pushing ${a} (1.00 KiB)\n`,
      `Pushing ${b} (2.00 KiB)\n`,
      red(`✗ ${a}`),
      red(`✗ ${b}`),
      `Pushing ${c} (3.00 KiB)\n`,
    )
    expect(events.map((e) => e.kind)).toEqual(['pushing', 'pushing', 'failed', 'failed', 'pushing'])
    expect(events.filter((e) => e.kind === 'failed').map((e) => (e as { path: string }).path)).toEqual([a, b])
  })

  it('separates a glued ✗ path from a following "Pushing" even when that path was never announced', () => {
    const events = parse(`✗ ${a}Pushing ${b} (1.00 KiB)\n`)
    expect(events).toEqual([
      { kind: 'failed', path: a },
      { kind: 'pushing', path: b, bytes: 1024 },
    ])
  })

  it('reads a ✗ at the very end of the stream, without newline', () => {
    expect(parse(`Pushing ${a} (1.00 KiB)\n${red(`✗ ${a}`)}`).at(-1)).toEqual({ kind: 'failed', path: a })
  })

  it('handles chunks split anywhere, even inside a multi-byte character', () => {
    const whole = Buffer.from(`Pushing ${a} (1.00 KiB)\n✗ ${a}\nsome other line ✓ é\n`)
    const parser = new ReportParser()
    const events: ReportEvent[] = []
    for (let i = 0; i < whole.length; i += 3) events.push(...parser.feed(whole.subarray(i, i + 3)))
    events.push(...parser.end())
    expect(events.map((e) => e.kind)).toEqual(['pushing', 'failed', 'text'])
    expect(texts(events)).toEqual(['some other line ✓ é\n'])
  })

  it('passes unknown text through byte for byte, colours, carriage returns and invalid UTF-8 included', () => {
    const raw = Buffer.concat([
      Buffer.from('\u001b[1mwarning:\u001b[0m odd\r\n'),
      Buffer.from([0xff, 0xfe, 0x0a]),
      Buffer.from('progress 1\rprogress 2\n'),
    ])
    const parser = new ReportParser()
    const events = [...parser.feed(raw), ...parser.end()]
    expect(Buffer.concat(events.map((e) => (e as { raw: Buffer }).raw))).toEqual(raw)
  })

  it('keeps unknown text that precedes a glued ✗', () => {
    const events = parse(`error: upload stalled✗ ${a}\n`)
    expect(texts(events)).toEqual(['error: upload stalled'])
    expect(events.at(-1)).toEqual({ kind: 'failed', path: a })
  })

  it('recognises cachix push headers, endings and the untrusted warning', () => {
    const events = parse(
      'Pushing 7 paths (3 are already present) using zstd to cache modular-workspace ⏳\n',
      '\n',
      'All done.\n',
      'Nothing to push - all store paths are already on Cachix.\n',
      `${yellow('WARNING')}: failed to register a post-build hook for this command because you're not a trusted ` +
        `user. Falling back to watching the entire Nix store for new paths.\n`,
    )
    expect(events.map((e) => e.kind)).toEqual(['header', 'text', 'done', 'nothing', 'untrusted'])
    expect(events[0]).toEqual({ kind: 'header', total: 7, present: 3, cache: 'modular-workspace' })
  })

  it('reads terminal-mode ✓ lines', () => {
    expect(parse(`\u001b[32m✓\u001b[0m ${a} (4.00 KiB)\n`)).toEqual([{ kind: 'pushed', path: a, bytes: 4096 }])
  })

  it('never throws on random bytes and loses none of them', () => {
    for (let seed = 1; seed < 200; seed++) {
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (seed * 7919 + i * 104729) % 256))
      const parser = new ReportParser()
      const events = [...parser.feed(bytes), ...parser.end()]
      // No cachix line hides in these bytes: all of them come back as text, in order.
      expect(events.filter((e) => e.kind !== 'text')).toEqual([])
      expect(Buffer.concat(events.map((e) => (e.kind === 'text' ? e.raw : Buffer.alloc(0))))).toEqual(bytes)
    }
  })
})
