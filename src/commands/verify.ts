import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const verify: Command = async () => {
  throw new HmsError('"hms verify" is not implemented yet')
}

export default verify
