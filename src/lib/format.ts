const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

/** Sizes the way cachix prints them: `%.2f` and powers of 1024. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(2)} ${units[unit]}`
}

export function parseBytes(amount: string, unit: string): number | undefined {
  const power = units.indexOf(unit as (typeof units)[number])
  const value = Number(amount)
  if (power < 0 || !Number.isFinite(value)) return undefined
  return Math.round(value * 1024 ** power)
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const minutes = Math.floor(ms / 60_000)
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`
}

const safeWord = /^[\w@%+=:,./#~-]+$/

export function shellQuote(word: string): string {
  if (word !== '' && safeWord.test(word) && !word.startsWith('~') && !word.includes('#')) return word
  return `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * A word for a command hms suggests, safe to print: one with control characters is written in
 * bash's `$'…'` quoting, so the hint shows escapes yet still names the exact word when typed.
 */
export function shellWord(word: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f]/.test(word)) return shellQuote(word)
  // eslint-disable-next-line no-control-regex
  const escaped = word
    .replace(/[\\']/g, (c) => `\\${c}`)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
      const code = c.charCodeAt(0)
      // In $'…', \xNN is a byte: a C1 character (two bytes in UTF-8) is written \uNNNN.
      return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
    })
  return `$'${escaped}'`
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ')
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

/**
 * Text read back from state files (a profile or cache name, a reason) printed so that it cannot
 * drive the terminal: control characters (C0, DEL, C1) become `\xNN` escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** The line of Nix's stderr that says what went wrong: its last `error:`, else its last line. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => stripAnsi(l).trim())
    .filter(Boolean)
  return (
    lines
      .filter((l) => l.startsWith('error:'))
      .pop()
      ?.replace(/^error:\s*/, '') ??
    lines.pop() ??
    'no output'
  )
}

// eslint-disable-next-line no-control-regex
export const ansiPattern = /\u001b\[[0-9;?]*[ -/]*[@-~]/g

/** Text without its terminal escape sequences (colours, cursor moves). */
export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, '')
}
