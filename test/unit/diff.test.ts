import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { computeDiff } from '../../src/diff/compute.js'
import { parseDrvName, parseStoreName } from '../../src/diff/parse-name.js'
import { changeText, diffLines, printDiff } from '../../src/ui/diff.js'
import type { Colors } from '../../src/ui/output.js'
import { drvNames, storeNames } from '../helpers/drv-names.js'
import { capturedOutput } from '../helpers/sink.js'

describe('parseDrvName', () => {
  it.each(drvNames)('%s → %s, %s', (text, name, version) => {
    expect(parseDrvName(text)).toEqual({ name, version })
  })

  it('agrees with Nix itself on the whole table', () => {
    const list = drvNames.map(([text]) => JSON.stringify(text)).join(' ')
    const expr = `map (n: let p = builtins.parseDrvName n; in [ p.name p.version ]) [ ${list} ]`
    const args = ['--eval', '--strict', '--json', '--expr', expr]
    const nix = JSON.parse(execFileSync('nix-instantiate', args, { encoding: 'utf8' }))
    expect(drvNames.map(([text]) => Object.values(parseDrvName(text)))).toEqual(nix)
  })
})

describe('parseStoreName', () => {
  it.each(storeNames)('%s → %s, %s (output %s)', (text, name, version, output) => {
    expect(parseStoreName(text)).toEqual({ name, version, output })
  })
})

const p = (name: string) => `/nix/store/${'a'.repeat(32)}-${name}`
const closure = (entries: [string, number][]) => new Map(entries.map(([name, bytes]) => [p(name), bytes]))

describe('computeDiff', () => {
  it('added, removed and changed packages; outputs count once; several versions; unversioned paths left out', () => {
    const before = closure([
      ['ripgrep-14.1', 100],
      ['git-2.44', 50],
      ['nix-2.8.1', 10],
      ['nix-2.8.1-man', 5],
      ['python3-3.10', 1],
      ['python3-3.11', 1],
      ['home-manager-path', 7],
      ['hm-session-vars.sh', 1],
    ])
    const after = closure([
      ['ripgrep-14.2', 120],
      ['fd-9.0', 30],
      ['nix-2.8.1', 10],
      ['nix-2.8.1-man', 5],
      ['python3-3.11', 1],
      ['home-manager-path', 8],
      ['home-manager-files', 3],
    ])
    expect(computeDiff(before, after)).toEqual({
      added: [{ name: 'fd', version: '9.0' }],
      removed: [{ name: 'git', version: '2.44' }],
      changed: [
        { name: 'python3', from: '3.10, 3.11', to: '3.11' },
        { name: 'ripgrep', from: '14.1', to: '14.2' },
      ],
      closureBytesBefore: 175,
      closureBytesAfter: 177,
    })
  })

  it('the same closure: nothing changed', () => {
    const same = closure([
      ['hello-2.12', 1],
      ['home-manager-generation', 2],
    ])
    const nothing = { added: [], removed: [], changed: [], closureBytesBefore: 3, closureBytesAfter: 3 }
    expect(computeDiff(same, same)).toEqual(nothing)
  })
})

describe('computeDiff, several versions of one name', () => {
  it('added or removed together are one entry, counted once, as diff-closures prints them', () => {
    const before = closure([
      ['perl-5.36', 1],
      ['perl-5.38', 1],
      ['hello-2.12', 1],
    ])
    const after = closure([
      ['python3-3.12.4', 1],
      ['python3-3.11.9', 1],
      ['hello-2.12', 1],
    ])
    const diff = computeDiff(before, after)
    expect(diff).toMatchObject({
      added: [{ name: 'python3', version: '3.11.9, 3.12.4' }],
      removed: [{ name: 'perl', version: '5.36, 5.38' }],
      changed: [],
    })
    expect(changeText(diff)).toBe('2 packages changed')
  })
})

describe('printDiff', () => {
  async function render(quiet: boolean, n: number, env: Record<string, string> = { NO_COLOR: '1' }): Promise<string> {
    const { out, sink } = await capturedOutput({ env, quiet })
    const added = Array.from({ length: n }, (_, i) => ({ name: `pkg${String(i).padStart(2, '0')}`, version: '1.0' }))
    const removed = [{ name: 'git', version: '2.44' }]
    const changed = [{ name: 'ripgrep', from: '14.1', to: '14.2' }]
    const diff = { added, removed, changed, closureBytesBefore: 2048, closureBytesAfter: 3072 }
    printDiff(diff, out, 'home packages')
    return sink.text
  }

  it('a heading with the size change, version changes first, long lists cut with a count', async () => {
    const text = await render(false, 12)
    expect(text.split('\n').slice(0, 3)).toEqual([
      'home packages · closure 2.00 KiB → 3.00 KiB (+1.00 KiB)',
      '  ~ ripgrep 14.1 → 14.2',
      '  + pkg00 1.0',
    ])
    expect(text).toContain('  + pkg08 1.0\n  … and 4 more (hms diff -v lists them all)\n')
    expect(text).not.toContain('pkg09')
  })

  it('colours the marks as the rest of the output: only with colour on', async () => {
    const text = await render(false, 1, { FORCE_COLOR: '1' })
    const [yellow, green, red, end] = ['\x1b[33m', '\x1b[32m', '\x1b[31m', '\x1b[39m']
    expect(text).toContain(
      `  ${yellow}~${end} ripgrep 14.1 → 14.2\n  ${green}+${end} pkg00 1.0\n  ${red}-${end} git 2.44\n`,
    )
    expect(await render(false, 1)).not.toContain('\x1b[')
  })

  it('-q hides it', async () => {
    expect(await render(true, 1)).toBe('')
  })
})

describe('diffLines', () => {
  const colors = { dim: String, green: String, red: String, yellow: String } as unknown as Colors
  const added = Array.from({ length: 12 }, (_, i) => ({ name: `p${i}`, version: '1' }))
  const diff = { added, removed: [], changed: [], closureBytesBefore: 0, closureBytesAfter: 0 }

  it('all lines without a limit (hms diff -v), else the limit and where the rest is', () => {
    expect(diffLines(diff, colors, 'h', { limit: Infinity, rest: 'x' })).toHaveLength(13)
    const cut = diffLines(diff, colors, 'h', { limit: 10, rest: '-v lists them all' })
    expect([cut.length, cut.at(-1)]).toEqual([12, '  … and 2 more (-v lists them all)'])
  })
})
