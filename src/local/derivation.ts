import { readFileSync } from 'node:fs'

/**
 * The output paths a derivation file names, read from the file itself: a store derivation begins
 * `Derive([("out","/nix/store/…-name","",""),…],` and has since Nix's first releases. Reading it
 * costs a file read where `nix-store --query --outputs` costs a Nix start (~30 ms, after every
 * store-URL switch on Nix 2.8, whose post-build hook gets no $OUT_PATHS). Undefined when the file
 * cannot be read or does not name every output (a content-addressed derivation leaves them empty,
 * newer formats may differ): the caller asks Nix then.
 */
export function drvOutputs(drv: string): string[] | undefined {
  let text: string
  try {
    text = readFileSync(drv, 'latin1')
  } catch {
    return undefined
  }
  const list = /^Derive\(\[((?:\("[^"]*","[^"]*","[^"]*","[^"]*"\),?)+)\],/.exec(text)?.[1]
  if (!list) return undefined
  const paths = [...list.matchAll(/\("[^"]*","([^"]*)",/g)].map((m) => m[1]!)
  return paths.length > 0 && paths.every((p) => /^\/\S+$/.test(p)) ? paths : undefined
}
