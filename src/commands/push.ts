import { HmsError } from '../errors.js'
import type { Command } from './index.js'

const push: Command = async () => {
  throw new HmsError('"hms push" is not implemented yet')
}

export default push
