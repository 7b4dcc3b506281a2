import type { Writable } from 'node:stream'

/**
 * After Ctrl-C the terminal has echoed `^C` where the cursor was: after a question home-manager
 * asked on /dev/tty, after hms's own prompt, after a build line. Shells (and nh) start what they
 * print next on a fresh line; so does hms, on a terminal only: pipes and logs stay byte-exact.
 */
let pending = false
/** A spinner on screen clears its own line, ^C included: no new line is needed after it. */
let spinnerShown = false

/** hms was interrupted (SIGINT, or Ctrl-C read by its prompt). */
export function interruptedOnTerminal(): void {
  if (!spinnerShown) pending = true
}

/** Output says whether its spinner holds the current line. */
export function spinnerOnScreen(shown: boolean): void {
  spinnerShown = shown
  if (shown) pending = false
}

/** `stream`, whose next write after an interruption starts on a new line when it is a terminal. */
export function freshLine<T extends Writable & { isTTY?: boolean }>(stream: T): T {
  if (!stream.isTTY) return stream
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
  const wrapped = Object.create(stream) as T
  wrapped.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (pending && !spinnerShown) {
      pending = false
      write('\n')
    }
    return write(chunk, ...rest)
  }) as T['write']
  return wrapped
}
