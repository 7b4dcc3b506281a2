import { signalExitCode } from '../../lib/errors.js'
import type { PushTally, Ran } from '../backend.js'
import type { ReportEvent } from './report.js'

/**
 * home-manager runs under `sh`, which moves its stderr onto descriptor 3: hms's own stderr, passed
 * through cachix untouched. So nix writes straight to the terminal (progress bars and all), and the
 * pipe hms reads carries only cachix's report. Without descriptor 3 it runs home-manager as it is.
 *
 * `sh` also writes home-manager's own exit status into the file named first: cachix exits with its
 * command's status (or dies of its signal) after pushing, so only this file tells "home-manager
 * finished, then the push was interrupted" from "interrupted while home-manager activated". The
 * trap keeps `sh` waiting for home-manager on Ctrl-C instead of dying first; a trapped signal is
 * reset to its default in children, so home-manager still gets it.
 */
export const stderrBypass = [
  'sh',
  '-c',
  'f=$1; shift; trap : INT TERM HUP; if { : >&3; } 2>/dev/null; then "$@" 2>&3 3>&-; else "$@"; fi; s=$?; ' +
    'echo "$s" >"$f"; exit "$s"',
  'hms-exec',
]

/** The argv actually run for a watch-exec plan: its command with the bypass spliced in after `--`. */
export function withBypass(command: string[], statusFile = '/dev/null'): string[] {
  const dashes = command.indexOf('--')
  return [...command.slice(0, dashes + 1), ...stderrBypass, statusFile, ...command.slice(dashes + 1)]
}

/** Lines cachix prints when it refuses to start the command at all. */
const refusals = [
  /^Binary cache \S+ (does not exist|doesn't exist or you don't have access)\./,
  /^Neither auth token nor signing key are present\./,
]

export function isRefusal(text: string): boolean {
  return refusals.some((pattern) => pattern.test(text))
}

/** Folds one report event into the tally; returns true when the event was understood. */
export function tallyEvent(tally: PushTally, event: ReportEvent): boolean {
  switch (event.kind) {
    case 'pushing':
    case 'pushed':
      tally.announced.set(event.path, event.bytes ?? tally.announced.get(event.path))
      return true
    case 'failed':
      tally.failed.add(event.path)
      return true
    case 'untrusted':
      tally.untrusted = true
      return true
    case 'header':
      tally.alreadyPresent += event.present
      return true
    case 'text': {
      const text = event.raw.toString('utf8').trim()
      // A refusal becomes hms's own one-line warning; cachix's copy (without newline) is not echoed.
      if (!isRefusal(text)) return false
      tally.refusal ??= text
      return true
    }
    default:
      return true
  }
}

/**
 * cachix ran its report to the end: it exited by itself, or the run's one Ctrl-C reached
 * home-manager, which cachix ignores SIGINT for; it then pushes what was built, reports, and
 * re-raises SIGINT on itself (cachix-facts.md). Not so when home-manager had finished before the
 * signal (it came during the push), or a second signal may have cut the push short.
 */
export function reportComplete(ran: Ran): boolean {
  const { outcome, finished } = ran
  if (!outcome.interrupted) return !outcome.signal
  if (outcome.interrupted !== 'SIGINT' || outcome.signals !== 1) return false
  if (outcome.signal && outcome.signal !== 'SIGINT') return false
  return finished === undefined || finished === signalExitCode('SIGINT')
}
