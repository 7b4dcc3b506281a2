import { describe, expect, it } from 'vitest'
import { homeManagerArity, parseArgs } from '../../src/cli/args.js'
import { homeManagerArchive, homeManagerScript, homeManagerVersions, scriptOptions } from '../helpers/third-party.js'

// The real scripts are the reference: every option that takes values in any supported version must be
// in hms's table with the same count, or hms would read its value as a subcommand or as its own option.
describe.each(homeManagerVersions)("home-manager %s's options", (version) => {
  const archive = homeManagerArchive(version)
  if (!archive)
    throw new Error(`missing ../shared/third-party/home-manager-${version}-*.tar.gz (see test/fixtures/README.md)`)
  const options = scriptOptions(homeManagerScript(archive))

  it('are read from the script', () => {
    // A parser that found nothing would make the next test pass vacuously.
    expect(options.get('--flake')).toBe(1)
    expect(options.get('--option')).toBe(2)
    expect(options.get('--impure')).toBe(0)
    expect(options.size).toBeGreaterThan(30)
  })

  it('that take values are all in homeManagerArity with their arity', () => {
    const missing = [...options].filter(([name, n]) => n > 0 && homeManagerArity[name] !== n && !hmsOwn.has(name))
    expect(missing).toEqual([])
  })

  it('that take no value are not in homeManagerArity with one', () => {
    const wrong = [...options].filter(([name, n]) => n === 0 && (homeManagerArity[name] ?? 0) !== 0)
    expect(wrong).toEqual([])
  })

  it('pass through hms with their values, in order', () => {
    const argv = [...options]
      .filter(([name]) => !hmsOwn.has(name))
      .flatMap(([name, n]) => [name, ...Array.from({ length: n }, (_, i) => `v${i} x`)])
    const args = parseArgs(argv)
    expect(args.command).toBe('switch')
    expect(args.passthrough).toEqual(argv)
  })
})

/** Options hms itself reads (and, for -v, also hands on). */
const hmsOwn = new Set(['-h', '--help', '--version', '-v', '--verbose', '--flake'])

it('has no option that no supported version knows', () => {
  const known = new Set(
    homeManagerVersions.flatMap((v) => [...scriptOptions(homeManagerScript(homeManagerArchive(v)!)).keys()]),
  )
  expect(Object.keys(homeManagerArity).filter((name) => !known.has(name))).toEqual([])
})
