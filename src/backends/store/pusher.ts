import { accessSync, constants, existsSync } from 'node:fs'
import { emptyTally, type PushTally } from '../backend.js'
import { HmsError } from '../../lib/errors.js'
import { interruption } from '../../lib/interrupt.js'
import { formatBytes, plural } from '../../lib/format.js'
import { Hook, parseHookLines } from './hook.js'
import type { Output } from '../../ui/output.js'
import type { Plan } from '../../plan/plan.js'
import { finishedStatus, type Ran } from '../backend.js'
import { which } from '../../lib/which.js'
import { capture, runForeground, type Outcome, type RunOptions } from '../../lib/process.js'
import {
  compileExclude,
  copyUrl,
  nixCopyArgs,
  schemeOfUrl,
  signArgs,
  storeName,
  type Target,
} from '../../plan/target.js'
import { closureInfo, type PathInfo } from '../../local/closure.js'
import { drvOutputs } from '../../local/derivation.js'
import { closureInDirectory, defaultLimits, lastLine, notCounted, presentIn, type Limits } from './presence.js'
import { nixCopyCredentials } from './auth.js'
import { freshLookupCache } from './lookup-cache.js'
import { shareSsh, type SshShare } from './ssh.js'
import { signingKeyProblem } from './signing-key.js'
import type { Env } from '../../lib/env.js'

type Copied = { sent: Set<string> } & ({ ok: true } | { ok: false; reason: string; permanent: boolean })
type StoreTarget = Extract<Target, { kind: 'store' }>

export interface StoreCtx {
  env: Env
  cwd: string
  out: Output
}

export interface StorePushOptions {
  target: StoreTarget
  /** The cache as the user named it, for messages. */
  label: string
  exclude: readonly string[]
  compressionMethod?: Plan['compressionMethod']
  limits?: Limits
}

/**
 * Pushes to a Nix store URL what it is handed (hook lines or roots), one `nix copy` at a time, in
 * the order it arrives, while the caller goes on. For each batch: the closure, minus what the cache
 * has, minus `push.exclude`; pushed with `--no-recursive`, so exactly those paths are sent.
 */
export class StorePusher {
  readonly tally: PushTally = emptyTally()
  private readonly seen = new Set<string>()
  /** Paths and bytes handed to nix copy so far, for the progress line. */
  private sendingPaths = 0
  /** What the copy under way said it sends, before hms has counted it. */
  private copying = 0
  private sending = 0
  private readonly reasons = new Set<string>()
  private readonly exclude: RegExp[]
  private lines: string[] = []
  private roots: string[] = []
  private running?: Promise<void>
  private stopped = false
  /** A signal hms received while one of the pusher's children ran. */
  private signal?: NodeJS.Signals

  private readonly ssh: SshShare

  constructor(
    private readonly options: StorePushOptions,
    private readonly ctx: StoreCtx,
  ) {
    this.tally.exactSizes = true
    this.exclude = compileExclude(options.exclude)
    // Exclusions need the cache asked before and after the copy: three sessions, worth one login.
    this.ssh = shareSsh(options.target.url, ctx.env, this.exclude.length > 0)
  }

  /** Lines from the post-build hook: `DRV_PATH OUT_PATHS`. */
  addHookLines(lines: string[]): void {
    this.lines.push(...lines)
    this.kick()
  }

  addRoots(roots: string[]): void {
    this.roots.push(...roots)
    this.kick()
  }

  private showProgress(): void {
    const { label } = this.options
    // Before nix copy has said what it sends (no exclusions), there are no figures to show yet; the
    // bytes are known once hms has the closure.
    const bytes = () => (this.sending > 0 ? `, ${formatBytes(this.sending)}` : '')
    const count = () => this.sendingPaths + this.copying
    const figures = () => (count() > 0 ? `: ${plural(count(), 'path')}${bytes()}` : '')
    void this.ctx.out.progress(() => `pushing to ${label}${figures()}`)
  }

  /** Reads nix copy's `copying N paths...` as it comes, for the progress line. */
  private countingFrom(): (chunk: Buffer) => void {
    let text = ''
    return (chunk) => {
      if (this.copying > 0) return
      text += chunk.toString('utf8')
      const count = /^copying (\d+) paths/m.exec(text)?.[1]
      if (!count) return
      this.copying = Number(count)
      this.showProgress()
    }
  }

  /** Paths handed to nix copy (or, without exclusions, that it said it sends), for the progress line. */
  private sendingNow(paths: readonly string[]): void {
    this.sending += sumSizes(paths.map((p) => this.tally.announced.get(p)))
    this.sendingPaths += paths.length
  }

  /** Start nothing new (hms was interrupted); what is still waiting counts as failed, so it gets queued. */
  stop(): void {
    this.stopped = true
  }

  async finish(): Promise<void> {
    while (this.running) await this.running
    if (this.stopped) for (const p of await this.take()) this.tally.failed.add(p)
    await this.ssh.close()
  }

  /**
   * The signal that cut this push short. A child may be seen dying of Ctrl-C before hms's own handler
   * has run (and another child's query then fails with it): the run's signal counts as well.
   */
  get interrupted(): NodeJS.Signals | undefined {
    return this.signal ?? interruption()
  }

  get ok(): boolean {
    return this.tally.failed.size === 0
  }

  private kick(): void {
    if (this.running || this.stopped) return
    this.running = this.loop().finally(() => {
      this.running = undefined
      if (this.lines.length + this.roots.length > 0) this.kick()
    })
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.lines.length + this.roots.length > 0) {
      let roots: string[] = []
      try {
        roots = await this.take()
        await this.batch(roots)
      } catch (error) {
        const signal = error instanceof HmsError ? error.signal : undefined
        if (signal) {
          this.signal = signal
          this.stopped = true
        }
        this.fail(roots, reasonOf(error))
      }
    }
  }

  /** Everything waiting, as output paths: derivations are resolved in one nix-store call. */
  private async take(): Promise<string[]> {
    const { drvs, outputs } = parseHookLines(this.lines.splice(0))
    const roots = [...outputs, ...this.roots.splice(0), ...(await outputsOf(drvs, this.ctx.env))]
    return [...new Set(roots)].filter((p) => existsSync(p))
  }

  private async batch(roots: string[]): Promise<void> {
    if (roots.length === 0) return
    return this.exclude.length > 0 ? this.askFirst(roots) : this.copyFirst(roots)
  }

  /**
   * Without exclusions nix copy is handed the roots: it takes their closures itself, asks the
   * cache in its own session (its narinfo cache bypassed) and sends, naming each path, only what
   * the cache lacks. Asking first would ask the same question twice. hms's closure query (sizes,
   * and the count of what was there already) runs beside the copy, not before it; for a file://
   * cache the closure is read afterwards from the narinfos the cache then holds, which is also the
   * confirmation, and the local store is asked only when one is missing.
   */
  private async copyFirst(roots: string[]): Promise<void> {
    const { url } = this.options.target
    const local = () => closureInfo(roots, this.ctx.env)
    // Started once nix copy is: the copy is what the push waits for.
    const closure = schemeOfUrl(url) === 'file' ? undefined : nextTurn().then(local)
    // Awaited below in every case; until then a failure must not count as unhandled.
    closure?.catch(() => {})
    this.showProgress()
    const copied = await this.copy(roots, true).catch(async (error: unknown) => {
      // Interrupted while nix copy ran: what it already wrote is in the cache, and counts as pushed.
      const infos = await (closure ?? local()).catch(() => undefined)
      if (infos) await this.confirmLanded(this.announce(this.claim(infos), infos))
      throw error
    })
    const held = closure || !copied.ok ? undefined : closureInDirectory(url, roots)
    let infos: Map<string, PathInfo>
    try {
      infos = held ?? (await (closure ?? local()))
    } catch (error) {
      return this.fail(roots, reasonOf(error))
    }
    const send = this.announce(this.claim(infos), infos)
    if (send.length > 0) await this.settle(send, copied, true, held && new Set(held.keys()))
  }

  /**
   * With exclusions the paths to send depend on what the cache lacks: the closure, then the cache
   * asked once, then `nix copy --no-recursive` of exactly the rest.
   */
  private async askFirst(roots: string[]): Promise<void> {
    const { target, limits = defaultLimits } = this.options
    const infos = await closureInfo(roots, this.ctx.env)
    const candidates = this.claim(infos)
    if (candidates.length === 0) return
    let present: Set<string>
    try {
      present = await presentIn(target, candidates, this.ssh.env, limits, true)
    } catch (error) {
      // Asked again by the next batch or by the retry: this batch learnt nothing about them.
      for (const p of candidates) this.seen.delete(p)
      return this.fail(roots, reasonOf(error), isPermanent(error), pushHint(error))
    }
    this.tally.alreadyPresent += present.size
    const missing = candidates.filter((p) => !present.has(p))
    const excluded = excludedPaths(missing, infos, this.exclude, this.tally.excluded)
    for (const p of excluded) this.tally.excluded.add(p)
    const send = missing.filter((p) => !excluded.has(p))
    if (send.length === 0) return
    // Announced before the copy, so an interrupted copy's landed paths count (confirmLanded).
    this.announce(send, infos)
    this.sendingNow(send)
    this.showProgress()
    const copied = await this.copy(send, false).catch(async (error: unknown) => {
      await this.confirmLanded(send)
      throw error
    })
    await this.settle(send, copied, false)
  }

  /** The closure's paths no earlier batch of this push has taken. */
  private claim(infos: ReadonlyMap<string, PathInfo>): string[] {
    this.tally.references ??= new Map()
    const references = this.tally.references
    for (const [p, info] of infos) references.set(p, info.references)
    const candidates = [...infos.keys()].filter((p) => !this.seen.has(p))
    for (const p of candidates) this.seen.add(p)
    return candidates
  }

  private announce(paths: string[], infos: ReadonlyMap<string, PathInfo>): string[] {
    for (const p of paths) this.tally.announced.set(p, infos.get(p)?.narSize)
    return paths
  }

  /**
   * After the copy of `send`. `nixAsked`: nix copy asked the cache itself, so a path it did not
   * send was there already. A store nix copy talks to in one session confirms each path it names
   * and exits 0 for: an ssh store acknowledged it, an http(s) cache answered the upload with success
   * (Nix's narinfo cache bypassed, so a path it "had" was asked about, never taken on trust). A
   * file:// cache was read already (`held`). Otherwise (s3://, exclusions, a failed copy) the cache
   * is asked: what landed counts; nix copy's exit code alone has lied (a stale narinfo cache).
   */
  private async settle(send: string[], copied: Copied, nixAsked: boolean, held?: ReadonlySet<string>): Promise<void> {
    const { target, limits = defaultLimits } = this.options
    const skipped = (p: string) => {
      this.tally.announced.delete(p)
      this.tally.alreadyPresent++
    }
    if (copied.ok && nixAsked) for (const p of send) if (!copied.sent.has(p)) skipped(p)
    const ask = copied.ok && nixAsked ? send.filter((p) => copied.sent.has(p)) : send
    this.copying = 0
    if (nixAsked) {
      this.sendingNow(copied.ok ? ask : send.filter((p) => copied.sent.has(p)))
      this.showProgress()
    }
    if (copied.ok && nixAsked && confirmsInSession(target)) {
      for (const p of ask) this.tally.confirmed.add(p)
      for (const p of ask) this.ctx.out.detail(`pushed ${p}`)
      return
    }
    let landed: ReadonlySet<string>
    try {
      // `held`: the cache was read already (a file:// cache's narinfos, walked for the closure).
      landed = held ?? (await presentIn(target, ask, this.ssh.env, limits, true))
    } catch (error) {
      const confirmed = copied.ok ? `pushed, but the cache could not confirm it: ${reasonOf(error)}` : reasonOf(error)
      return this.fail(ask, confirmed, isPermanent(error) || (!copied.ok && copied.permanent), pushHint(error))
    }
    // A failed copy: what the store had already, nix skipped; what it sent and landed is pushed.
    if (nixAsked && !copied.ok) for (const p of ask) if (landed.has(p) && !copied.sent.has(p)) skipped(p)
    const still = ask.filter((p) => !landed.has(p))
    for (const p of ask) {
      if (!landed.has(p) || !this.tally.announced.has(p)) continue
      this.tally.confirmed.add(p)
      this.ctx.out.detail(`pushed ${p}`)
    }
    if (still.length === 0) return
    this.fail(
      still,
      copied.ok ? `nix copy finished, but the cache does not have ${plural(still.length, 'path')}` : copied.reason,
      !copied.ok && copied.permanent,
    )
  }

  private async confirmLanded(paths: string[]): Promise<void> {
    const { target, limits = defaultLimits } = this.options
    try {
      for (const p of await presentIn(target, paths, this.ssh.env, limits, true)) this.tally.confirmed.add(p)
    } catch {}
  }

  /** `sent`: the paths nix copy said it copied (it skips what the store has). `recursive`: `paths` are roots. */
  private async copy(paths: string[], recursive: boolean): Promise<Copied> {
    const { target, compressionMethod } = this.options
    const env = this.ssh.env
    const keyProblem = signingKeyProblem(target, readable)
    if (keyProblem)
      return { sent: new Set(), ok: false, reason: `${keyProblem.message} — ${keyProblem.fix}`, permanent: true }
    const sign = signArgs(target, recursive)
    if (sign) {
      const [nix, ...args] = sign
      const signed = await capture(nix!, [...args, ...paths], { env, attached: true })
      if (signed.exitCode !== 0)
        return {
          sent: new Set(),
          ok: false,
          reason: `could not sign with ${target.secretKeyFile}: ${lastLine(signed.stderr)}`,
          permanent: true,
        }
    }
    // Credentials go to nix in a private netrc file, never on its command line.
    const credentials = await nixCopyCredentials(copyUrl(target, compressionMethod), env)
    const lookups = freshLookupCache(target.url, env)
    try {
      const [file, ...args] = nixCopyArgs(credentials.url, recursive)
      // No timeout: a big closure over a slow link takes what it takes; nothing waits on it but hms.
      // Handed the roots, nix copy says how many paths it sends once it has asked the cache: the progress line's
      // figure.
      const onStderr = recursive ? this.countingFrom() : undefined
      const result = await capture(file!, [...args, ...credentials.args, ...paths], {
        env: lookups.env,
        attached: true,
        ...(onStderr ? { onStderr } : {}),
      })
      for (const line of result.stderr.split('\n')) if (line.trim()) this.ctx.out.detail(`nix copy: ${line}`)
      const sent = new Set([...result.stderr.matchAll(/^copying path '(\/[^']+)' to /gm)].map((m) => m[1]!))
      if (result.exitCode === 0) return { sent, ok: true }
      const refusal = result.stderr
        .split('\n')
        .find((l) => permanentRefusal.test(l))
        ?.replace(/^\s*error:\s*/, '')
        .trim()
      return { sent, ok: false, reason: refusal ?? lastLine(result.stderr), permanent: refusal !== undefined }
    } finally {
      credentials.done()
      lookups.done()
    }
  }

  /** `permanent`: no retry can help; stop this push and let the caller not retry it either. */
  private fail(paths: string[], reason: string, permanent = false, hint?: string): void {
    for (const p of paths) this.tally.failed.add(p)
    if (permanent) {
      this.tally.refusal ??= reason
      this.stopped = true
    }
    if (this.reasons.has(reason)) return
    this.reasons.add(reason)
    const fix = fixFor(reason, this.options) ?? hint
    this.ctx.out.stopProgress()
    this.ctx.out.warn(`push to ${this.options.label} failed: ${reason}${fix ? ` — ${fix}` : ''}`)
  }
}

/** What nix copy says when the cache will never take the paths as they are. */
const permanentRefusal = new RegExp(
  [
    'lacks a valid signature',
    'not signed by a trusted key',
    'HTTP error 40[13]',
    'does not appear to be a binary cache',
    'Permission denied',
    "don't know how to open Nix store",
    'Read-only file system',
  ].join('|'),
)

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK)
    return true
  } catch {
    return false
  }
}

/** Stores whose answers nix copy gets in its own session: an ssh store, an http(s) cache. */
function confirmsInSession(target: StoreTarget): boolean {
  return /^(ssh(-ng)?|https?):\/\//i.test(target.url)
}

function hintOf(error: unknown): string | undefined {
  return error instanceof HmsError ? error.hint : undefined
}

/** presence.ts words its errors for verify; a push says what becomes of the paths it could not send. */
function pushHint(error: unknown): string | undefined {
  return hintOf(error)?.replace(notCounted, 'what is not pushed is queued for hms push --pending')
}

function isPermanent(error: unknown): boolean {
  return error instanceof HmsError && error.permanent
}

/** A refusal explained with its fix: an unsigned push to a store that insists on signatures, an upload refused. */
export function fixFor(reason: string, options: Pick<StorePushOptions, 'target' | 'label'>): string | undefined {
  if (/does not appear to be a binary cache|HTTP error 40[13]/.test(reason)) {
    return (
      'the cache refused the upload: check its credentials (in the URL in the hms config, ' +
      'or in the netrc file Nix reads) and that it accepts uploads (PUT)'
    )
  }
  if (/lacks a valid signature|not signed by a trusted key/.test(reason)) {
    const entry = options.target.name ?? 'NAME'
    return options.target.secretKeyFile
      ? `the destination does not trust the key in ${options.target.secretKeyFile}: ` +
          'add its public key to trusted-public-keys there'
      : 'the destination only accepts signed paths: create a key (nix-store --generate-binary-cache-key NAME ' +
          `key.sec key.pub), set "caches": { "${entry}": { "url": "${options.target.url}", "secretKeyFile": ` +
          '"…/key.sec" } } in the hms config, and trust key.pub there'
  }
  return undefined
}

/**
 * Missing paths that must not be pushed: those `push.exclude` matches, and those that refer to one
 * (a binary cache refuses a path whose references it does not hold). `before` are exclusions of
 * earlier batches of the same run.
 */
export function excludedPaths(
  missing: readonly string[],
  infos: ReadonlyMap<string, Pick<PathInfo, 'references'>>,
  patterns: readonly RegExp[],
  before: ReadonlySet<string> = new Set(),
): Set<string> {
  const excluded = new Set(missing.filter((p) => patterns.some((re) => re.test(storeName(p)))))
  if (excluded.size === 0 && before.size === 0) return excluded
  let grew = true
  while (grew) {
    grew = false
    for (const p of missing) {
      if (excluded.has(p)) continue
      const refs = infos.get(p)?.references ?? []
      if (refs.some((r) => r !== p && (excluded.has(r) || before.has(r)))) {
        excluded.add(p)
        grew = true
      }
    }
  }
  return excluded
}

/** What the derivations built: named in their .drv files; Nix is asked only about those that do not name them. */
async function outputsOf(drvs: string[], env: Env): Promise<string[]> {
  const named = drvs.map((drv) => drvOutputs(drv))
  const ask = drvs.filter((_, i) => !named[i])
  const outputs = named.flatMap((paths) => paths ?? [])
  if (ask.length === 0) return outputs
  const nixStore = which('nix-store', env) ?? 'nix-store'
  const result = await capture(nixStore, ['--query', '--outputs', ...ask], { env, timeoutMs: 60_000 })
  return [...outputs, ...result.stdout.split('\n').filter((p) => p.startsWith('/'))]
}

/**
 * The next turn of the event loop. A push starts nix copy in this turn (reading the hook's lines and
 * the .drv files awaits no I/O): what is started then runs beside the copy without delaying it.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function reasonOf(error: unknown): string {
  if (error instanceof HmsError) return error.message
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}

function sumSizes(values: Iterable<number | undefined>): number {
  let total = 0
  for (const v of values) total += v ?? 0
  return total
}

export function storeOptions(plan: Pick<Plan, 'target' | 'cache' | 'exclude' | 'compressionMethod'>): StorePushOptions {
  if (plan.target?.kind !== 'store') throw new HmsError(`${plan.cache ?? 'the cache'} is not a store URL`)
  return {
    target: plan.target,
    label: plan.cache ?? plan.target.url,
    exclude: plan.exclude,
    ...(plan.compressionMethod ? { compressionMethod: plan.compressionMethod } : {}),
  }
}

/** A switch run (see switch.ts), with the tally always there. */
export type Watched = Ran & { tally: PushTally }

/**
 * home-manager with hms's post-build hook, which only records what each build produced; all of it
 * is pushed in one batch once home-manager exits: one closure query, one presence check, one
 * `nix copy` session, as a bare copy of the same paths. Batches during the build cost more than
 * they saved: each was a `nix copy` of its own (and an ssh login), competing with the build for
 * the CPU and the store database, and the build waited for none of them anyway. Until then the
 * in-flight marker (inflight.ts) stands for every built path; an interrupted run queues them all.
 */
export async function storeWatch(plan: Plan, ctx: StoreCtx, switched?: () => void): Promise<Watched> {
  const started = performance.now()
  const pusher = new StorePusher(storeOptions(plan), ctx)
  const hook = Hook.install(ctx.env)
  try {
    const [file, ...args] = plan.homeManager
    const stdio: RunOptions['stdio'] = ['inherit', ctx.out.childStdout, 'inherit']
    const homeManager = await runForeground(file!, args, {
      env: hook.env,
      cwd: ctx.cwd,
      stdio,
      onStdout: ctx.out.relay,
    })
    // Interrupted: nothing more is sent; what was built is handed over only to be queued. The run's signal
    // counts too: home-manager may be seen ending of Ctrl-C before hms's own handler has run.
    if (homeManager.interrupted ?? interruption()) pusher.stop()
    pusher.addHookLines(hook.drain())
    // What runs beside the push starts once nix copy has.
    if (switched) void nextTurn().then(switched)
    await pusher.finish()
    ctx.out.stopProgress()
    // Ctrl-C during the copy interrupts the run as much as one during the build (as under cachix watch-exec):
    // then only what the cache confirmed counts as pushed, the rest is queued, and nothing is retried.
    const interrupted = homeManager.interrupted ?? pusher.interrupted
    const outcome = interrupted ? { ...homeManager, interrupted } : homeManager
    return {
      outcome,
      tally: pusher.tally,
      durationMs: performance.now() - started,
      finished: finishedStatus(homeManager),
    }
  } finally {
    hook.remove()
  }
}

/** One push of `roots`' closures, shaped like a `cachix push` so retries, queue and history treat both alike. */
export async function storePushRoots(
  roots: string[],
  options: StorePushOptions,
  ctx: StoreCtx,
): Promise<{ ok: boolean; tally: PushTally; alreadyPresent: number; outcome: Outcome }> {
  const pusher = new StorePusher(options, ctx)
  pusher.addRoots(roots)
  const missing = roots.filter((p) => !existsSync(p))
  for (const p of missing) pusher.tally.failed.add(p)
  await pusher.finish()
  ctx.out.stopProgress()
  const outcome: Outcome = {
    exitCode: pusher.ok ? 0 : 1,
    ...(pusher.interrupted ? { interrupted: pusher.interrupted } : {}),
  }
  return { ok: pusher.ok, tally: pusher.tally, alreadyPresent: pusher.tally.alreadyPresent, outcome }
}
