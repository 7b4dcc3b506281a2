// Timing and statistics helpers: wall time of a child process, min/median of several runs.
import { spawn, spawnSync } from 'node:child_process'

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** min, median and every run (rounded), of a list of numbers. */
export function stats(values, digits = 1) {
  const round = (v) => Number(v.toFixed(digits))
  return { min: round(Math.min(...values)), median: round(median(values)), runs: values.map(round) }
}

/**
 * Runs a program to completion, synchronously; returns its wall time in ms. Throws on a non-zero exit unless allowed.
 */
export function timeSync(file, args, options = {}) {
  const start = process.hrtime.bigint()
  const result = spawnSync(file, args, { stdio: 'ignore', ...options })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.error) throw result.error
  if (result.status !== 0 && !options.allowFail)
    throw new Error(`${file} ${args.join(' ')} exited with ${result.status ?? result.signal}`)
  return ms
}

/**
 * Starts a program and waits for it; returns { ms, code, signal, startedAt } where startedAt is
 * the wall-clock time (ms since the epoch, sub-ms precision) just before the spawn.
 */
export function timeAsync(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.timeOrigin + performance.now()
    const start = process.hrtime.bigint()
    const child = spawn(file, args, { stdio: 'ignore', ...options })
    child.on('error', reject)
    child.on('exit', (code, signal) =>
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, signal, startedAt }),
    )
  })
}

export function fmtMs(ms) {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
}

export function fmtBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 2 : value < 100 && unit > 0 ? 1 : 0)} ${units[unit]}`
}
