import { describe, expect, it } from 'vitest'
import { subcommands } from '../../src/args.js'
import { helpText } from '../../src/help.js'

describe('each subcommand’s help', () => {
  it.each(subcommands.filter((c) => c !== 'switch'))('hms %s --help speaks of that subcommand, not of a switch', (command) => {
    const text = helpText(command)
    expect(text).toContain(`hms ${command}`)
    expect(text).not.toMatch(/home-manager|switching|the switch\b/)
  })

  it('hms --help describes the switch and its pass-through', () => {
    expect(helpText('switch')).toMatch(/home-manager switch/)
    expect(helpText('switch')).toMatch(/passed to home-manager/)
  })
})
