import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const completion: Command = async () => {
  throw new HmsError('"hms completion" is not implemented yet')
}

export default completion
