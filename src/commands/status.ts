import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const status: Command = async () => {
  throw new HmsError('"hms status" is not implemented yet')
}

export default status
