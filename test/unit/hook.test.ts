import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { Hook, hookEnv, hookScript, parseHookLines, userConfFiles } from '../../src/backends/store/hook.js'

const hooks: Hook[] = []
afterEach(() => {
  for (const hook of hooks.splice(0)) hook.remove()
})

describe('NIX_USER_CONF_FILES for one run', () => {
  it('puts the hook first and keeps the files nix would have read', () => {
    const env = hookEnv({ HOME: '/home/m' }, '/tmp/h/nix.conf', '/tmp/h/hook')
    expect(env.NIX_USER_CONF_FILES).toBe('/tmp/h/nix.conf:/home/m/.config/nix/nix.conf:/etc/xdg/nix/nix.conf')
    expect(env.NIX_CONFIG).toBeUndefined()
  })

  it('follows XDG_CONFIG_HOME and XDG_CONFIG_DIRS', () => {
    expect(userConfFiles({ HOME: '/h', XDG_CONFIG_HOME: '/cfg', XDG_CONFIG_DIRS: '/a:/b' })).toEqual([
      '/cfg/nix/nix.conf',
      '/a/nix/nix.conf',
      '/b/nix/nix.conf',
    ])
  })

  it('prepends to a NIX_USER_CONF_FILES the user set', () => {
    expect(hookEnv({ NIX_USER_CONF_FILES: '/mine.conf' }, '/h.conf', '/hook').NIX_USER_CONF_FILES).toBe(
      '/h.conf:/mine.conf',
    )
  })

  it('leaves NIX_CONFIG alone unless it sets a hook of its own, which would win', () => {
    expect(hookEnv({ NIX_CONFIG: 'substituters =\n' }, '/h.conf', '/hook').NIX_CONFIG).toBe('substituters =\n')
    expect(hookEnv({ NIX_CONFIG: 'post-build-hook = /theirs\n' }, '/h.conf', '/hook').NIX_CONFIG).toBe(
      'post-build-hook = /theirs\n\npost-build-hook = /hook\n',
    )
  })
})

describe('hook lines', () => {
  it('takes $OUT_PATHS when nix gives them, else the derivation to look up', () => {
    expect(
      parseHookLines(['/nix/store/x-a.drv /nix/store/o1-a /nix/store/o2-a-dev', '/nix/store/y-b.drv ', '']),
    ).toEqual({ drvs: ['/nix/store/y-b.drv'], outputs: ['/nix/store/o1-a', '/nix/store/o2-a-dev'] })
  })
})

describe('the hook script', () => {
  it('appends one line per build and always exits 0', () => {
    const hook = Hook.install({ TMPDIR: '/tmp' })
    hooks.push(hook)
    const script = /post-build-hook = (.*)\n/.exec(
      readFileSync(hook.env.NIX_USER_CONF_FILES!.split(':')[0]!, 'utf8'),
    )![1]!
    execFileSync(script, { env: { DRV_PATH: '/nix/store/x-a.drv', OUT_PATHS: '' } })
    execFileSync(script, { env: { DRV_PATH: '/nix/store/y-b.drv', OUT_PATHS: '/nix/store/o-b' } })
    expect(hook.drain()).toEqual(['/nix/store/x-a.drv ', '/nix/store/y-b.drv /nix/store/o-b'])
    expect(hook.drain()).toEqual([])
  })

  it('exits 0 even when it cannot write: a failing hook would stop the build', () => {
    const hook = Hook.install({ TMPDIR: '/tmp' })
    hooks.push(hook)
    const script = `${hook.dir}/unwritable-hook`
    writeFileSync(script, hookScript('/nonexistent/dir/built'), { mode: 0o755 })
    expect(
      execFileSync(script, {
        env: { DRV_PATH: '/nix/store/x-a.drv' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ).toBe('')
  })

  it('hands on only complete lines', () => {
    const hook = Hook.install({ TMPDIR: '/tmp' })
    hooks.push(hook)
    appendFileSync(hook.log, '/nix/store/x-a.drv \n/nix/store/y-')
    expect(hook.drain()).toEqual(['/nix/store/x-a.drv '])
    appendFileSync(hook.log, 'b.drv \n')
    expect(hook.drain()).toEqual(['/nix/store/y-b.drv '])
    hook.remove()
    expect(existsSync(hook.dir)).toBe(false)
  })
})
