import { printable } from '../lib/format.js'
import { logLine } from '../state/history-line.js'
import { recoverInflightQuietly } from '../state/inflight.js'
import { State } from '../state/state.js'
import { outputFor, type Command } from './command.js'

const log: Command = async (args, io) => {
  const { options } = args
  const out = await outputFor(io, options)
  const state = new State(io.env)
  await recoverInflightQuietly(state, io.env, out)
  const { entries, warning } = await state.readHistory()
  if (warning) out.warn(printable(warning))
  const recent = entries.slice(-(options.lines ?? 10))
  if (options.json) out.json(recent)
  else if (recent.length === 0) out.info('no runs recorded yet')
  else io.stdout.write(`${recent.map(logLine).join('\n')}\n`)
  return 0
}

export default log
