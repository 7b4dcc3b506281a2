import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const init: Command = async () => {
  throw new HmsError('"hms init" is not implemented yet')
}

export default init
