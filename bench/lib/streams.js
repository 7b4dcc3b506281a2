// Checks a captured stream from the line producer (bench/fixtures/lines.*): every producer line is
// there once and in order (its 7-digit sequence number follows the previous one), none is on the
// wrong stream, and the SHA-256 of the producer lines equals the producer's own output alone.
// Lines that are not the producer's (hms's summary, cachix's report) are counted, not hashed.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

const OUT = Buffer.from('hm-out ')
const ERR = Buffer.from('hm-err ')

/** @param {'out'|'err'} stream which producer stream the file should hold */
export function scanStream(file, stream) {
  const buf = readFileSync(file)
  const mine = stream === 'out' ? OUT : ERR
  const other = stream === 'out' ? ERR : OUT
  const hash = createHash('sha256')
  let lines = 0
  let foreign = 0
  let wrongStream = 0
  let outOfOrder = 0
  let firstProblem = null
  const foreignSample = []
  let runStart = -1
  let start = 0
  const startsWith = (p, at) => buf.length - at >= p.length && buf.compare(p, 0, p.length, at, at + p.length) === 0
  while (start < buf.length) {
    let nl = buf.indexOf(10, start)
    if (nl < 0) nl = buf.length - 1
    if (startsWith(mine, start)) {
      let n = 0
      for (let i = start + 7; i < start + 14; i++) n = n * 10 + (buf[i] - 48)
      if (n !== lines) {
        outOfOrder++
        firstProblem ??= `line ${lines}: got sequence number ${n}`
      }
      lines++
      if (runStart < 0) runStart = start
    } else {
      if (runStart >= 0) hash.update(buf.subarray(runStart, start))
      runStart = -1
      if (startsWith(other, start)) {
        wrongStream++
        firstProblem ??= `a ${other.toString().trim()} line on std${stream}`
      } else {
        foreign++
        if (foreignSample.length < 3)
          foreignSample.push(buf.subarray(start, Math.min(nl, start + 120)).toString('utf8'))
      }
    }
    start = nl + 1
  }
  if (runStart >= 0) hash.update(buf.subarray(runStart))
  return {
    bytes: buf.length,
    lines,
    foreign,
    foreignSample,
    wrongStream,
    outOfOrder,
    firstProblem,
    sha256: hash.digest('hex'),
  }
}
