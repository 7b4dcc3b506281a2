// The Nix module and hms cannot drift apart: nix/settings-schema.json is hms's zod schema as JSON schema,
// the module's options are built from it, and nix/check-settings.nix (with nix/js-regex.nix) gives the
// same verdicts and messages as hms on the same values — compared here on tables and generated values.
import { execa } from 'execa'
import fc from 'fast-check'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../src/plan/config.js'
import { configSchema } from '../src/plan/schema.js'
import { storeUrlProblem, withoutCredentials } from '../src/plan/store-url.js'
import { root, unpackThirdParty, type ThirdParty } from './helpers/hm-trees.js'

let tp: ThirdParty
let dir: string
beforeAll(async () => {
  tp = await unpackThirdParty()
  dir = await mkdtemp(join(tmpdir(), 'hms-nix-schema-'))
})
afterAll(async () => {
  await rm(tp.dir, { recursive: true, force: true })
  await rm(dir, { recursive: true, force: true })
})

/** Evaluates `f` (a Nix function of the list) on every JSON text at once: one nix-instantiate for all. */
async function nixMap<T>(f: string, texts: string[]): Promise<T[]> {
  const file = join(dir, `cases-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(file, `[${texts.join(',')}]`)
  const expr = `let lib = import ${tp.nixpkgs}/lib; in map (${f}) (builtins.fromJSON (builtins.readFile ${file}))`
  const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], {
    reject: false,
    maxBuffer: 1e9,
  })
  if (result.exitCode !== 0) throw new Error(result.stderr)
  return JSON.parse(result.stdout) as T[]
}

it(
  'nix/settings-schema.json is z.toJSONSchema(configSchema) (regenerate: ' +
    'npx vitest run test/nix-schema.test.ts -u)',
  async () => {
    await expect(`${JSON.stringify(z.toJSONSchema(configSchema), null, 2)}\n`).toMatchFileSnapshot(
      join(root, 'nix/settings-schema.json'),
    )
  },
)

/**
 * What hms says about a config.json text: every issue it could report first, worded as src/plan/config.ts
 * does (describeIssue for the schema; checkUrls, once the schema is satisfied, for each store URL).
 */
function hmsIssues(text: string): string[] {
  const result = configSchema.safeParse(JSON.parse(text))
  if (!result.success) {
    return result.error.issues
      .flatMap((issue) => {
        const at = issue.path.length ? issue.path.map(String).join('.') : 'top level'
        if (issue.code === 'unrecognized_keys')
          return issue.keys.map((k) => `unknown key "${issue.path.length ? `${at}.` : ''}${k}"`)
        return [`${at}: ${issue.message}`]
      })
      .sort()
  }
  const { caches = {}, cache, profiles = {} } = result.data
  const refs: [string, string][] = [
    ...Object.entries(caches).map(([name, c]): [string, string] => [`caches.${name}.url`, c.url]),
    ...(cache ? [['cache', cache] as [string, string]] : []),
    ...Object.entries(profiles).flatMap(([name, p]): [string, string][] =>
      p.cache ? [[`profiles.${name}.cache`, p.cache]] : [],
    ),
  ]
  return refs
    .flatMap(([at, url]) => {
      const problem = url.includes('://') ? storeUrlProblem(url) : undefined
      return problem ? [`${at} "${withoutCredentials(url)}" ${problem.message}`] : []
    })
    .sort()
}

/** The message hms's own config loader exits with (undefined: it loads the file). */
async function hmsLoaderSays(text: string): Promise<string | undefined> {
  const file = '/home/alice/.config/hms/config.json'
  return parseConfig(text, file).then(
    () => undefined,
    (e: Error) => e.message.replace(`invalid config ${file}: `, ''),
  )
}

/** JSON text with bigint as plain digits: integers past 2^53 as a user would write them in Nix. */
function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
    /"@@(-?\d+)@@"/g,
    '$1',
  )
}

interface Parts {
  int: fc.Arbitrary<bigint>
  str: fc.Arbitrary<string>
  key: fc.Arbitrary<string>
  pattern: fc.Arbitrary<string>
  /** Keys hms does not know (undefined: left out). */
  stray: fc.Arbitrary<boolean | undefined>
}
function configOf({ int, str, key, pattern, stray }: Parts) {
  const unknown = { extra: stray }
  return fc.record(
    {
      $schema: str,
      cache: str,
      user: str,
      flake: str,
      profiles: fc.dictionary(
        key,
        fc.record({ hosts: fc.array(str, { maxLength: 3 }), cache: str, ...unknown }, { requiredKeys: [] }),
        { maxKeys: 2 },
      ),
      caches: fc.dictionary(key, fc.record({ url: str, secretKeyFile: str }, { requiredKeys: [] }), { maxKeys: 2 }),
      push: fc.record(
        {
          jobs: int,
          compressionMethod: fc.constantFrom('xz', 'zstd'),
          strict: fc.boolean(),
          mode: fc.constantFrom('watch-exec', 'generation'),
          autoRetry: fc.boolean(),
          retries: int,
          exclude: fc.array(pattern, { maxLength: 3 }),
          jbos: stray,
        },
        { requiredKeys: [] },
      ),
      quotaBytes: int,
      pushes: stray,
    },
    { requiredKeys: [] },
  )
}
const anything = configOf({
  int: fc.oneof(
    fc.constantFrom(
      -9007199254740993n,
      -9007199254740992n,
      -9007199254740991n,
      -1n,
      0n,
      1n,
      2n,
      9007199254740991n,
      9007199254740992n,
      9007199254740993n,
    ),
    fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
  ),
  str: fc.oneof(
    fc.constantFrom('', 'x', 'my-cache', 'caf\u00e9', '-doc$', '*-doc', '(?:a|b)'),
    fc.constantFrom(
      'file://rel',
      'file:///',
      'file:///a b',
      'file:///a^b',
      'FILE:///ok',
      'https://',
      'https://u:p@/x',
      's3://?region=x',
    ),
    fc.constantFrom('ssh://[::1', 'ssh-ng://u:pw@[::1]:22', 'http://:80/x', 'ftp://host', 'https://cache.example.org'),
    fc.string({ maxLength: 6 }),
  ),
  key: fc.constantFrom('', 'a', 'laptop', 'own'),
  pattern: fc.stringMatching(/^[()[\]{}?*+|^$.\\\-,<>=!:kbdcxu0-9a-z\u00e9]{0,10}$/),
  stray: fc.boolean(),
})
// Mostly what hms accepts, so that acceptance is compared as often as refusal.
const likely = configOf({
  int: fc.bigInt({ min: 1n, max: 9007199254740991n }),
  str: fc.constantFrom(
    'x',
    'my-cache',
    'file:///var/cache/nix',
    'https://cache.example.org/nix',
    'ssh-ng://builder@nas',
    'x',
    'my-cache',
    'file://rel',
    'https://u:pw@/x',
    'file:///a b',
  ),
  key: fc.constantFrom('a', 'laptop'),
  pattern: fc.constantFrom('-doc$', '(?:-man|-info)$', '^[a-z]+-source$', '\\.tar\\.gz$'),
  stray: fc.constant(undefined),
})

describe("nix/check-settings.nix gives hms's verdict in hms's words", () => {
  it('on a table of values hms refuses and accepts', async () => {
    const texts = [
      '{}',
      '{"quotaBytes":9007199254740993}',
      '{"quotaBytes":-9007199254740993,"push":{"jobs":0,"retries":-1}}',
      '{"push":{"exclude":["*-doc","caf\u00e9","(?<a>x)\\\\k<a>"]}}',
      '{"profiles":{"":{"hosts":[""]}},"caches":{"own":{}},"pushes":1,"push":{"c":1,"d":2}}',
      '{"$schema":"x","cache":"c","caches":{"own":{"url":"file:///x","secretKeyFile":"/k"}}}',
      '{"cache":"https://","caches":{"a":{"url":"file://rel"},"b":{"url":"https://u:pw@/x"}},' +
        '"profiles":{"p":{"cache":"s3://"}}}',
      '{"caches":{"a":{"url":"no-scheme"}},"profiles":{"p":{"cache":"ssh://u:pw@host"}}}',
    ]
    const nix = await nixMap<string[]>(
      `v: lib.sort (a: b: a < b) ((import ${join(root, 'nix/check-settings.nix')} { inherit lib; }).problems v)`,
      texts,
    )
    expect(nix).toEqual(texts.map(hmsIssues))
    expect(nix[0]).toEqual([])
    expect(nix[3]).toEqual([
      'push.exclude.0: not a valid regular expression',
      'push.exclude.1: use printable ASCII (write other characters as \\uXXXX)',
    ])
  })

  it('on 2000 generated configs (every key, bounds, unknown keys, bad patterns)', async () => {
    const texts = [
      ...fc.sample(anything, { numRuns: 1500, seed: 20261130 }),
      ...fc.sample(likely, { numRuns: 500, seed: 1 }),
    ].map(toJsonText)
    const nix = await nixMap<string[]>(
      `v: lib.sort (a: b: a < b) ((import ${join(root, 'nix/check-settings.nix')} { inherit lib; }).problems v)`,
      texts,
    )
    const differences = texts
      .map((t, i) => ({ t, hms: hmsIssues(t), nix: nix[i] }))
      .filter((d) => JSON.stringify(d.hms) !== JSON.stringify(d.nix))
    expect(differences.slice(0, 5)).toEqual([])
    // And the loader itself: what it exits with is one of the module's messages, and only then.
    for (const [i, text] of texts.entries()) {
      const said = await hmsLoaderSays(text)
      if (said === undefined) expect(nix[i], text).toEqual([])
      else expect(nix[i], text).toContain(said)
    }
    expect(nix.filter((issues) => issues.length === 0).length).toBeGreaterThan(200)
    expect(
      nix.filter((issues) => issues.some((m) => /^(caches|cache|profiles)\S* ".*" /.test(m))).length,
    ).toBeGreaterThan(100)
  })
})

describe("nix/js-regex.nix agrees with JavaScript's RegExp", () => {
  function nodeAccepts(pattern: string): boolean {
    try {
      new RegExp(pattern)
      return true
    } catch {
      return false
    }
  }
  // Stricter on purpose (nix/js-regex.nix header): escapes in group names, modifier groups, and a group
  // name used twice. Newer Node versions accept some of these; the module refusing them is the safe side.
  const stricterOnPurpose = (p: string) =>
    /\(\?<[^>=!]*\\/.test(p) ||
    /\(\?[a-z]*-?[a-z]*:/.test(p.replace(/\(\?:/g, '')) ||
    /\(\?<([A-Za-z_$][\w$]*)>[\s\S]*\(\?<\1>/.test(p)

  async function compare(patterns: string[]) {
    const nix = await nixMap<string | null>(
      `p: import ${join(root, 'nix/js-regex.nix')} p`,
      patterns.map((p) => JSON.stringify(p)),
    )
    return patterns
      .map((p, i) => ({ p, node: nodeAccepts(p), nix: nix[i] === null, reason: nix[i] }))
      .filter((r) => r.node !== r.nix && !(r.node && stricterOnPurpose(r.p)))
  }

  it('on a table of edge cases', async () => {
    const table = [
      '-doc$',
      '^*',
      '$*',
      '\\b*',
      '(?=a)*',
      '(?<=a)*',
      '(?<=a)?',
      'a{2}*',
      '{2}',
      'a{',
      'x{2,1}',
      'x{1,2}',
      'a{1,2}{3}',
      'a{99999999999999999999}',
      '\\k',
      '\\k<a>',
      '(?<a>.)\\k<a>',
      '(?<a>.)\\k<b>',
      '\\k<a>(?<a>.)',
      '(?<a>.)\\k',
      '[(?<a>]\\k',
      '[b-a]',
      '[a-b]',
      '[\\d-a]',
      '[a-\\d]',
      '[\\x41-\\x40]',
      '[\\u0041-\\x41]',
      '[\\c1-\\c0]',
      '[\\c]',
      '[\\0-\\7]',
      '[\\377-\\1]',
      '[\\40-\\37]',
      '[--a]',
      '[a-]',
      '[-a]',
      '[]',
      '[^]',
      '\\c',
      '\\cA',
      ']',
      '}',
      'a**',
      'a*?',
      'a+?*',
      'a??',
      '(?<$a1>.)',
      '(?<1a>.)',
      '(?<>.)',
      '(?<a>.)(?<a>.)',
      '\\u{41}',
      '(?',
      '()',
      '(',
      ')',
      'a|*',
      '|',
      '\\',
      'a\\',
      '[\\',
      '(?:a',
      '(?!a)+',
      '(?i:a)',
      '\\1(a)',
      '\\8',
      '[\\8-\\9]',
      'a{,3}',
      '\\d+',
      '[[:alpha:]]',
    ]
    const differences = await compare(table)
    expect(differences).toEqual([])
  })

  it('on 4000 generated patterns from regex syntax characters', async () => {
    const alphabet = [
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '?',
      '*',
      '+',
      '|',
      '^',
      '$',
      '.',
      '\\',
      '-',
      ',',
      '<',
      '>',
      '=',
      '!',
      ':',
      'k',
      'b',
      'B',
      'd',
      'c',
      'x',
      'u',
      '0',
      '1',
      '2',
      '3',
      '7',
      '8',
      'a',
      'z',
      'A',
      'F',
      '_',
    ]
    const patterns = fc.sample(
      fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((cs) => cs.join('')),
      { numRuns: 4000, seed: 7 },
    )
    const differences = await compare(patterns)
    expect(differences.slice(0, 10)).toEqual([])
    const valid = patterns.filter(nodeAccepts).length
    expect(valid).toBeGreaterThan(400)
    expect(valid).toBeLessThan(3600)
  })
})
