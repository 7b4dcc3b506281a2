// Lines of at most 120 characters in every file of src/, test/, bench/, scripts/ and bin/ (TypeScript and
// JavaScript, the bash stand-ins, Nix, shell, Python, Perl and C fixtures), except Markdown (prose and tables)
// and JSON (data, and the bench's generated results). Biome's formatter wraps code at 120 but never a string,
// a regular expression or a comment: this test holds those. Characters are counted as an editor does (code points).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/sandbox.js'

const folders = ['src', 'test', 'bench', 'scripts', 'bin']
const limit = 120
// Also what runs leave behind: logs and hidden scratch directories (.gitignore).
const skipped = /\.(md|json|log)$|(^|\/)\./

function scanned(): string[] {
  return folders.flatMap((folder) =>
    readdirSync(join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })
      .map((name) => join(folder, name))
      .filter((file) => !skipped.test(file) && statSync(join(REPO_ROOT, file)).isFile()),
  )
}

describe('style', () => {
  const files = scanned()

  it('scans the sources, the stand-ins and the fixtures', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'src/main.ts',
        'test/fixtures/bin/cachix',
        'bench/run.js',
        'scripts/demo.js',
        'bin/hms.js',
      ]),
    )
    expect(files.filter((file) => skipped.test(file))).toEqual([])
  })

  it(`has no line over ${limit} characters`, () => {
    const long = files.flatMap((file) =>
      readFileSync(join(REPO_ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => ([...line].length > limit ? [`${file}:${i + 1} (${[...line].length})`] : [])),
    )
    expect(long).toEqual([])
  })
})
