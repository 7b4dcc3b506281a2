// A real terminal for tests: a tmux server of the test's own (private socket, never the default
// server), one window running an interactive bash with job control, driven by the keys a person types.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { sleep } from './common.js'
import { HMS_BIN, type Sandbox } from './sandbox.js'

export interface Terminal {
  /** Types a command line and Enter. */
  type(line: string): void
  /** Text sent as it is, in one go: `\n` for the Enter of each line (what a paste sends). */
  paste(text: string): void
  /** Keys by tmux name: 'C-c', 'C-z', 'Enter'. */
  keys(...names: string[]): void
  /** The screen and its scrollback, lines joined as they wrapped. */
  screen(): string
  /** Polls the screen until `pattern` shows, up to `ms`; returns the screen. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>
  /** pid of the shell in the window: hms and what it runs are below it. */
  shellPid: number
  /** pid of the tmux server: it and the shell run with the sandbox's env, as long as the terminal is open. */
  serverPid: number
  close(): void
}

export const hmsCommand = `node ${HMS_BIN}`

/** A 160×50 terminal in the sandbox's flake directory, with the sandbox env as a person has it (no CI, colours). */
export function openTerminal(s: Sandbox, env: Record<string, string | undefined> = {}): Terminal {
  const socket = join(s.root, 'tmux.sock')
  const merged: Record<string, string> = {}
  const wanted = { ...s.env, CI: undefined, NO_COLOR: undefined, TERM: 'xterm-256color', HISTFILE: '/dev/null', ...env }
  for (const [key, value] of Object.entries(wanted)) {
    if (value !== undefined) merged[key] = value
  }
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], {
      env: merged,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  tmux('new-session', '-d', '-x', '160', '-y', '50', '-c', s.flakeDir, 'bash --norc --noprofile -i')
  tmux('set-option', '-g', 'history-limit', '5000')
  const shellPid = Number(tmux('display-message', '-p', '#{pane_pid}').trim())
  const serverPid = Number(tmux('display-message', '-p', '#{pid}').trim())
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-5000')
  const terminal: Terminal = {
    shellPid,
    serverPid,
    type(line) {
      tmux('send-keys', '-l', line)
      tmux('send-keys', 'Enter')
    },
    paste: (text) => void tmux('send-keys', '-l', text),
    keys: (...names) => void tmux('send-keys', ...names),
    screen,
    async waitFor(pattern, ms = 60_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const text = screen()
        if (pattern.test(text)) return text
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the screen:\n${text}`)
        await sleep(100)
      }
    },
    close() {
      try {
        tmux('kill-server')
      } catch {
        // Already gone.
      }
    },
  }
  return terminal
}
