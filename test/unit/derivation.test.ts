// What a derivation built, read from its .drv file instead of asking nix-store (one Nix start less
// after every store-URL switch on Nix 2.8), and the generation's closure walked from references the
// push already has: each checked against what Nix itself answers.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { drvOutputs } from '../../src/local/derivation.js'
import { closureWithin } from '../../src/switch/outcome.js'

const env = { ...process.env, NIX_CONFIG: 'substituters =' }
const nixStore = (args: string[]) =>
  execFileSync('nix-store', args, { env, encoding: 'utf8' }).split('\n').filter(Boolean)

/** A real derivation with two outputs, instantiated (not built) in the local store. */
function instantiate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hms-drv-'))
  const file = join(dir, 'two.nix')
  writeFileSync(
    file,
    `derivation { name = "hms-drv-test-${process.pid}-${Date.now()}"; system = builtins.currentSystem;
    builder = "/bin/sh"; args = [ "-c" "echo > $out; echo > $dev" ]; outputs = [ "out" "dev" ]; }`,
  )
  return execFileSync('nix-instantiate', [file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
}

describe('drvOutputs', () => {
  it('names the outputs nix-store --query --outputs names, for a real two-output derivation', () => {
    const drv = instantiate()
    expect(drvOutputs(drv)?.sort()).toEqual(nixStore(['--query', '--outputs', drv]).sort())
    expect(drvOutputs(drv)).toHaveLength(2)
  })

  it('leaves to Nix what the file does not name: a content-addressed output, another format, no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-drv-'))
    const ca = join(dir, 'ca.drv')
    writeFileSync(ca, 'Derive([("out","","r:sha256","")],[],[],"x86_64-linux","/bin/sh",[],[])')
    expect(drvOutputs(ca)).toBeUndefined()
    const other = join(dir, 'other.drv')
    writeFileSync(
      other,
      'DrvWithVersion("xp-dyn-drv",[("out","/nix/store/aaaa-x","","")],[],[],"x86_64-linux","/bin/sh",[],[])',
    )
    expect(drvOutputs(other)).toBeUndefined()
    expect(drvOutputs(join(dir, 'missing.drv'))).toBeUndefined()
  })

  it('reads a fixed-output derivation (hash fields filled in)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hms-drv-'))
    const fixed = join(dir, 'fixed.drv')
    writeFileSync(
      fixed,
      'Derive([("out","/nix/store/abcd-src.tar.gz","sha256","0123")],[],[],"x86_64-linux","builtin:fetchurl",[],[])',
    )
    expect(drvOutputs(fixed)).toEqual(['/nix/store/abcd-src.tar.gz'])
  })
})

describe('closureWithin', () => {
  const refs = new Map<string, string[]>([
    ['/g', ['/a', '/b', '/g']],
    ['/a', ['/c']],
    ['/b', ['/c']],
    ['/c', []],
    ['/outside', ['/c']],
  ])

  it('walks a root through the references it has, self-references included', () => {
    expect(closureWithin('/g', refs)).toEqual(new Set(['/g', '/a', '/b', '/c']))
  })

  it('says it cannot tell when a path on the way is not known', () => {
    expect(closureWithin('/g', new Map([['/g', ['/a']]]))).toBeUndefined()
    expect(closureWithin('/unknown', refs)).toBeUndefined()
  })
})
