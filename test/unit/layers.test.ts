// The house rules of src/ (README "How the code is laid out"): each folder may import only from the
// folders below it, no file takes part in an import cycle, the plan imports no I/O, and the
// commands never import each other.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '../../src')

/** Bottom to top; a folder imports only from folders earlier in this list (and from itself). */
const layers = [
  'lib',
  'plan',
  'ui',
  'local',
  'state',
  'diff',
  'backends',
  'switch',
  'doctor',
  'cli',
  'commands',
  'main.ts',
]

const IO_MODULES = ['node:fs', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:readline']

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [relative(SRC, path)] : []
  })
}

/** Every module a file names: static and type imports, re-exports and dynamic import(). */
function importsOf(file: string, text: string): { local: string[]; packages: string[] } {
  const specifiers = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!)
  const local = specifiers
    .filter((s) => s.startsWith('.') && s.endsWith('.js'))
    .map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'))
  return { local, packages: specifiers.filter((s) => !s.startsWith('.')) }
}

const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : file)

function graph(): Map<string, { local: string[]; packages: string[] }> {
  return new Map(sourceFiles().map((file) => [file, importsOf(file, readFileSync(join(SRC, file), 'utf8'))]))
}

/** One cycle as a path of files, or undefined. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file]
    state.set(file, 'open')
    stack.push(file)
    for (const next of edges.get(file) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(file, 'done')
    return undefined
  }
  for (const file of edges.keys()) {
    const cycle = visit(file)
    if (cycle) return cycle
  }
  return undefined
}

describe('the layers of src/', () => {
  const files = graph()

  it('puts every file in a known folder', () => {
    expect([...files.keys()].filter((f) => !layers.includes(folderOf(f)))).toEqual([])
  })

  it('imports only from lower folders or the same one', () => {
    const upward: string[] = []
    for (const [file, { local }] of files) {
      for (const target of local) {
        const from = layers.indexOf(folderOf(file))
        const to = layers.indexOf(folderOf(target))
        if (folderOf(file) !== folderOf(target) && to >= from) upward.push(`${file} → ${target}`)
      }
    }
    expect(upward).toEqual([])
  })

  it('has no import cycle between files', () => {
    const edges = new Map([...files].map(([file, { local }]) => [file, local]))
    expect(findCycle(edges)).toBeUndefined()
  })

  it('keeps the plan pure: nothing plan/plan.ts reaches does I/O', () => {
    const seen = new Set<string>()
    const reach = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const next of files.get(file)?.local ?? []) reach(next)
    }
    reach('plan/plan.ts')
    const io = [...seen].flatMap((file) =>
      files
        .get(file)!
        .packages.filter((p) => IO_MODULES.includes(p))
        .map((p) => `${file} imports ${p}`),
    )
    expect(io).toEqual([])
    expect(seen.size).toBeGreaterThan(3)
  })

  it('keeps the commands apart: a command imports no other command', () => {
    const crossing = [...files].flatMap(([file, { local }]) =>
      file.startsWith('commands/') && file !== 'commands/index.ts'
        ? local.filter((t) => t.startsWith('commands/') && t !== 'commands/command.ts').map((t) => `${file} → ${t}`)
        : [],
    )
    expect(crossing).toEqual([])
  })
})

describe('the rule checks themselves', () => {
  it('find a cycle, including one through a dynamic import', () => {
    const text = "import type { A } from './a.js'\nconst b = await import('../lib/b.js')"
    expect(importsOf('switch/x.ts', text).local).toEqual(['switch/a.ts', 'lib/b.ts'])
    const edges = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ])
    expect(findCycle(edges)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts'])
    expect(
      findCycle(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toBeUndefined()
  })
})
