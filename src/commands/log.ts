import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const log: Command = async () => {
  throw new HmsError('"hms log" is not implemented yet')
}

export default log
