// What a systemd path unit can see of a real generation switch (`nix-env --profile P --set`), probed
// with inotify watches that have the masks systemd's src/core/path.c uses for PathChanged=. systemd
// only counts events on the watch of the path itself ("primary_wd"), which is why services.hms watches
// the profiles directory: a watch on the profile link follows it into the read-only store and sees
// nothing, the directory's own watch sees the new link renamed in (IN_MOVED_TO). Systemd itself cannot
// run here (no systemd as PID 1), so this is the kernel half of the argument, on the real Nix.
import { execa, type ResultPromise } from 'execa'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { nixEnv } from './helpers/hm-eval.js'

// path.c: PATH_CHANGED =
// IN_DELETE_SELF|IN_MOVE_SELF|IN_ATTRIB|IN_CLOSE_WRITE|IN_CREATE|IN_DELETE|IN_MOVED_FROM|IN_MOVED_TO
const pathChangedEvents = [
  'delete_self',
  'move_self',
  'attrib',
  'close_write',
  'create',
  'delete',
  'moved_from',
  'moved_to',
]

const temps: string[] = []
const watchers: ResultPromise[] = []
afterAll(async () => {
  for (const watcher of watchers) watcher.kill()
  await Promise.allSettled(watchers)
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** inotifywait on `paths` (following symlinks, as inotify_add_watch does for systemd); its output lines so far. */
async function watch(paths: string[]): Promise<() => string[]> {
  const lines: string[] = []
  const child = execa(
    'inotifywait',
    ['-m', '--format', '%w|%e|%f', ...pathChangedEvents.flatMap((e) => ['-e', e]), ...paths],
    {
      reject: false,
      buffer: false,
    },
  )
  watchers.push(child)
  let established = false
  child.stderr!.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('Watches established')) established = true
  })
  child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  await until(() => established, 'inotifywait to start')
  return () => [...lines]
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
  }
}

async function storePath(dir: string, name: string): Promise<string> {
  const content = join(dir, name)
  await mkdir(content)
  await writeFile(join(content, 'generation'), `${name} ${Date.now()} ${Math.random()}\n`)
  return (await execa('nix-store', ['--add', content], { env: nixEnv })).stdout.trim()
}

it(
  'nix-env --set: the profiles directory sees the link renamed in; ' + 'a watch on the link itself sees nothing',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hms-profile-watch-'))
    temps.push(dir)
    const profiles = join(dir, 'profiles')
    await mkdir(profiles)
    const profile = join(profiles, 'home-manager')
    await execa('nix-env', ['--profile', profile, '--set', await storePath(dir, 'gen-1')], { env: nixEnv })
    const next = await storePath(dir, 'gen-2')

    // A sentinel on the same inotify instance: its event arrives after every earlier one (one queue per instance).
    const sentinel = join(dir, 'sentinel')
    await writeFile(sentinel, '')
    const onDirectory = await watch([profiles])
    const onLink = await watch([profile, sentinel])

    await execa('nix-env', ['--profile', profile, '--set', next], { env: nixEnv })
    await writeFile(sentinel, 'done')
    await until(() => onLink().some((l) => l.startsWith(`${sentinel}|`)), 'the sentinel event')
    await until(
      () => onDirectory().some((l) => l === `${profiles}/|MOVED_TO|home-manager`),
      'IN_MOVED_TO home-manager on the directory',
    )

    expect(onLink().filter((l) => !l.startsWith(`${sentinel}|`))).toEqual([])
    // nix-env makes the generation link first, then renames the new profile link over the old one.
    expect(onDirectory()).toContain(`${profiles}/|MOVED_TO|home-manager`)
  },
)
