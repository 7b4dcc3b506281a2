import { describe, expect, it } from 'vitest'
import { subcommands } from '../../src/cli/args.js'
import { commandOf, commandTree, namesOf } from '../../src/cli/command-tree.js'
import { helpText } from '../../src/cli/help.js'

describe('each subcommand’s help', () => {
  it.each(subcommands.filter((c) => c !== 'switch'))(
    'hms %s --help speaks of that subcommand, not of a switch',
    (command) => {
      const text = helpText(command)
      expect(text).toContain(`hms ${command}`)
      expect(text).not.toMatch(/home-manager|switching|the switch\b/)
    },
  )

  it('hms diff --help says what -q and -v do to the diff, nothing of a push', () => {
    const text = helpText('diff')
    const quiet = 'print only the heading: which generations, how many packages changed, the size'
    expect(text).toMatch(new RegExp(`^ {2}-q, --quiet +${quiet}$`, 'm'))
    const verbose = String.raw`list every package \(without it, the first 10 and a count of the rest\)`
    expect(text).toMatch(new RegExp(`^ {2}-v, --verbose +${verbose}$`, 'm'))
    expect(text).not.toMatch(/cachix|push/)
  })

  it('hms --help describes the switch and its pass-through', () => {
    expect(helpText('switch')).toMatch(/home-manager switch/)
    expect(helpText('switch')).toMatch(/passed to home-manager/)
  })
})

describe('help from the command tree', () => {
  it.each(subcommands)('hms %s --help lists every option commander reads for it', (command) => {
    const text = helpText(command)
    for (const option of commandOf(commandTree(), command).options) {
      for (const name of namesOf(option)) expect(text).toMatch(new RegExp(`(^|[ ,])${name}\\b`, 'm'))
    }
  })

  it('names the values an option accepts', () => {
    expect(helpText('push')).toMatch(/--compression-method <xz\|zstd> .*\(choices: "xz", "zstd"\)/)
    expect(helpText('switch')).toMatch(/\(choices: "watch-exec", "generation"\)/)
  })
})
