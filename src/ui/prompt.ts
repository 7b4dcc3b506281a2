import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { interruptedOnTerminal } from '../lib/fresh-line.js'

export interface Prompt {
  /** The next line typed, or undefined once input ended or Ctrl-C was pressed. */
  ask(prompt: string): Promise<string | undefined>
  /** Ctrl-C ended the questions. */
  readonly interrupted: boolean
  close(): void
}

/**
 * Questions asked one line at a time on a terminal, as a shell's `read -p` or Python's input():
 * - answers typed (or pasted) ahead are kept, and each question is still shown with its answer;
 * - Ctrl-Z then `fg` leaves the question answerable (readline pauses its input on SIGCONT and
 *   only resumes it when someone asks: with nothing left to wait on, node would exit with 13).
 */
export function openPrompt(input: Readable, output: Writable & { isTTY?: boolean }): Prompt {
  let asking = false
  // readline echoes keys as it reads them, also those typed ahead of their question: that echo
  // is held back, and the answer shown after its question instead (see ask).
  const shown = Object.create(output) as Writable
  type Write = Writable['write']
  shown.write = ((...args: Parameters<Write>) => (asking ? output.write(...args) : true)) as Write
  const rl = createInterface({ input, output: shown, terminal: Boolean(output.isTTY) })
  const typed: string[] = []
  let waiting: ((line: string | undefined) => void) | undefined
  let ended = false
  let interrupted = false
  const answer = (line: string | undefined) => {
    const resolve = waiting
    waiting = undefined
    asking = false
    resolve?.(line)
  }
  rl.on('line', (line) => (waiting ? answer(line) : typed.push(line)))
  rl.on('close', () => {
    ended = true
    answer(undefined)
  })
  rl.on('SIGINT', () => {
    interrupted = true
    // Raw mode shows no ^C: what follows (the "cancelled" line) must not land after the question.
    interruptedOnTerminal()
    rl.close()
  })
  rl.on('SIGCONT', () => rl.resume())
  return {
    get interrupted() {
      return interrupted
    },
    ask(prompt) {
      if (typed.length > 0) {
        const line = typed.shift()!
        output.write(`${prompt}${line}\n`)
        return Promise.resolve(line)
      }
      if (ended) return Promise.resolve(undefined)
      return new Promise((resolve) => {
        waiting = resolve
        asking = true
        rl.setPrompt(prompt)
        // Shows the question with whatever was typed of its answer so far.
        rl.prompt(true)
      })
    },
    close: () => rl.close(),
  }
}
