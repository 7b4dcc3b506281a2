import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { run } from '../../src/main.js'

export interface Captured {
  exitCode: number
  stdout: string
  stderr: string
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(Buffer.from(chunk))
      done()
    },
  })
  return { stream, text: () => Buffer.concat(chunks).toString() }
}

/** hms in this process, with a world of its own: an empty PATH unless one is given, a temp HOME. */
export async function runInProcess(argv: string[], env: Record<string, string | undefined> = {}): Promise<Captured> {
  const home = mkdtempSync(join(tmpdir(), 'hms-fault-'))
  const out = sink()
  const err = sink()
  const exitCode = await run({
    argv,
    env: { HOME: home, PATH: join(home, 'no-bin'), USER: 'mitsio', CI: 'true', NO_COLOR: '1', ...env },
    cwd: home,
    stdout: out.stream,
    stderr: err.stream,
    hostname: 'shoshin',
    self: ['/bin/true'],
  })
  return { exitCode, stdout: out.text(), stderr: err.text() }
}

export { noStackTrace as stackTrace } from '../helpers/common.js'
