import { describe, expect, it } from 'vitest'
import { freshLine, interruptedOnTerminal, spinnerOnScreen } from '../../src/lib/fresh-line.js'
import { textSink } from '../helpers/sink.js'

const sink = textSink

describe('after Ctrl-C, the next line hms writes', () => {
  it('starts on a new line on a terminal, once', () => {
    const tty = sink(true)
    const out = freshLine(tty)
    out.write('before\n')
    interruptedOnTerminal()
    out.write('note: after\n')
    out.write('more\n')
    expect(tty.text).toBe('before\n\nnote: after\nmore\n')
  })

  it('is byte-exact in a pipe or a log', () => {
    const pipe = sink(false)
    expect(freshLine(pipe)).toBe(pipe)
    interruptedOnTerminal()
    freshLine(pipe).write('note: after\n')
    expect(pipe.text).toBe('note: after\n')
    // The interruption is still pending for a terminal: spent here, the next test starts clean.
    freshLine(sink(true)).write('')
  })

  it('needs no new line when a spinner held the line: it clears it, ^C and all', () => {
    const tty = sink(true)
    const out = freshLine(tty)
    spinnerOnScreen(true)
    interruptedOnTerminal()
    spinnerOnScreen(false)
    out.write('✔ summary\n')
    expect(tty.text).toBe('✔ summary\n')
  })
})
