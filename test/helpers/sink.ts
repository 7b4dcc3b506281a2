import { Writable } from 'node:stream'
import { Output } from '../../src/ui/output.js'

export type TextSink = Writable & { text: string; isTTY: boolean }

/** A stream that keeps, as text, everything written to it; a terminal or not, as asked. */
export function textSink(isTTY = false): TextSink {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk)
      done()
    },
  }) as TextSink
  stream.text = ''
  stream.isTTY = isTTY
  return stream
}

/** hms's Output with stdout and stderr both into one sink; no colour unless `env` asks for it. */
export async function capturedOutput(
  options: { env?: Record<string, string>; quiet?: boolean } = {},
): Promise<{ out: Output; sink: TextSink }> {
  const sink = textSink()
  const { env = { NO_COLOR: '1' }, quiet = false } = options
  const out = await Output.create({ stdout: sink, stderr: sink, env, quiet, verbose: false, json: false })
  return { out, sink }
}
