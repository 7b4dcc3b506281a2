import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { homeManagerArity, parseArgs, subcommands } from '../../src/cli/args.js'
import { runInProcess, stackTrace } from './io.js'

const documented = new Set([0, 1, 2, 3, 127, 129, 130, 143])
const hmsWords = [
  '--flake',
  '.#mitsio@shoshin',
  '-p',
  'kinoite',
  '--profile',
  '--cache',
  'c',
  '--no-push',
  '--plan',
  '--json',
  '-q',
  '-v',
  '--strict',
  '--push-jobs',
  '4',
  '--compression-method',
  'zstd',
  '--mode',
  'generation',
  '--retries',
  '1',
  '--verify',
  '--pending',
  '-n',
  '--lines',
  '--force',
  '--user',
  '--',
  '-h',
  '-V',
  '=',
  '',
]
const word = fc.oneof(
  fc.constantFrom(...hmsWords, ...Object.keys(homeManagerArity), ...subcommands.filter((c) => c !== 'init')),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 6 }).map((s) => `--${s}`),
  fc.string({ maxLength: 3 }).map((s) => `-${s}`),
)

/** A home-manager option with as many values as it takes. */
const hmOption = fc
  .constantFrom(...Object.entries(homeManagerArity))
  .chain(([name, arity]) =>
    fc
      .array(fc.stringMatching(/^[a-z0-9./=]{1,8}$/), { minLength: arity, maxLength: arity })
      .map((values) => [name, ...values]),
  )
const hmsOption = fc.constantFrom(
  ['--json'],
  ['--plan'],
  ['-q'],
  ['--strict'],
  ['--cache', 'c'],
  ['-p', 'shoshin'],
  ['--push-jobs', '3'],
  ['--no-push'],
)

const argvCases = { random: 300, passThrough: 300 }

describe('random argv', () => {
  it('never throws and only exits with documented codes, without a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 8 }), async (argv) => {
        const result = await runInProcess(argv)
        expect(documented.has(result.exitCode), `${JSON.stringify(argv)} → ${result.exitCode}: ${result.stderr}`).toBe(
          true,
        )
        expect(result.stderr).not.toMatch(stackTrace)
        if (result.exitCode === 2) expect(result.stderr.trim().split('\n')).toHaveLength(1)
      }),
      { numRuns: argvCases.random },
    )
  })

  it('hands every home-manager option to home-manager unchanged and in order, around hms options', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            hmOption.map((w) => ({ hm: true, w })),
            hmsOption.map((w) => ({ hm: false, w })),
          ),
          { maxLength: 10 },
        ),
        (parts) => {
          const argv = parts.flatMap((p) => p.w)
          const parsed = parseArgs(argv)
          expect(parsed.passthrough).toEqual(parts.filter((p) => p.hm).flatMap((p) => p.w))
        },
      ),
      { numRuns: argvCases.passThrough },
    )
  })
})
