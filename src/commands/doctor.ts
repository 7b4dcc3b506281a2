import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const doctor: Command = async () => {
  throw new HmsError('"hms doctor" is not implemented yet')
}

export default doctor
