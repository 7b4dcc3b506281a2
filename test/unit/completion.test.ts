import { describe, expect, it } from 'vitest'
import { subcommands } from '../../src/cli/args.js'
import { commandOf, commandTree, namesOf } from '../../src/cli/command-tree.js'
import { candidatesOf, completionModel, completionScript, shells } from '../../src/cli/completion.js'
import { defaultConfig, type Config } from '../../src/plan/config.js'

const config: Config = {
  ...defaultConfig,
  cache: 'top',
  user: 'mitsio',
  profiles: { shoshin: { hosts: ['shoshin', 'shoshin-wsl'], cache: 'skylake' }, kinoite: { hosts: ['kinoite'] } },
  caches: { nas: { url: 'file:///mnt/nas' } },
}

const model = completionModel(candidatesOf(config, {}))
const command = (name: string) => model.find((c) => c.name === name)!
const option = (cmd: string, name: string) => command(cmd).options.find((o) => o.names.includes(name))!

describe('completion candidates', () => {
  it('come from the config', () => {
    expect(candidatesOf(config, { USER: 'other' })).toEqual({
      profiles: ['shoshin', 'kinoite'],
      flakeAttrs: ['.#mitsio@shoshin', '.#mitsio@shoshin-wsl', '.#mitsio@kinoite'],
      caches: ['top', 'skylake', 'nas'],
    })
  })

  it('use $USER when config has no user, and leave out store URLs', () => {
    const c = candidatesOf({ ...config, user: undefined, cache: 'file:///x' }, { USER: 'me' })
    expect(c.flakeAttrs[0]).toBe('.#me@shoshin')
    expect(c.caches).toEqual(['skylake', 'nas'])
  })

  it('never let a value the shell would expand into a script', () => {
    const evil: Config = {
      ...config,
      profiles: { 'a$(touch /tmp/pwned)': { hosts: ['`id`'] }, "it's": { hosts: ['ok'] }, fine: { hosts: ['fine'] } },
    }
    const c = candidatesOf(evil, {})
    expect(c.profiles).toEqual(['fine'])
    for (const shell of shells) {
      const script = completionScript(shell, completionModel(c), '1.0.0')
      expect(script).not.toMatch(/pwned|`id`|it's/)
    }
  })
})

describe('completion model', () => {
  it("has every subcommand with the options of commander's registry", () => {
    expect(model.map((c) => c.name)).toEqual([...subcommands])
    for (const name of subcommands) {
      const names = command(name).options.flatMap((o) => o.names)
      const registered = commandOf(commandTree(), name).options.flatMap(namesOf)
      expect(registered.length).toBeGreaterThan(1)
      expect(names).toEqual(expect.arrayContaining(registered))
    }
  })

  it.each([
    ['switch', '--profile', ['shoshin', 'kinoite']],
    ['switch', '-p', ['shoshin', 'kinoite']],
    ['push', '--compression-method', ['xz', 'zstd']],
    ['switch', '--mode', ['watch-exec', 'generation']],
    ['doctor', '--flake', ['.#mitsio@shoshin', '.#mitsio@shoshin-wsl', '.#mitsio@kinoite']],
    ['verify', '--cache', ['top', 'skylake', 'nas']],
    ['log', '--lines', []],
  ])('%s %s → %j', (cmd, name, values) => {
    expect(option(cmd, name)).toMatchObject({ takesValue: true, values })
  })

  it('completes shells, commands and paths as bare words', () => {
    expect(command('completion').positionals).toEqual(['bash', 'zsh', 'fish'])
    expect(command('help').positionals).toEqual([...subcommands])
    expect(command('push').positionals).toBe('files')
  })

  it("offers home-manager's options for the default subcommand only", () => {
    expect(option('switch', '--show-trace')).toMatchObject({ takesValue: false })
    expect(option('switch', '-b')).toMatchObject({ takesValue: true })
    expect(command('doctor').options.find((o) => o.names.includes('--show-trace'))).toBeUndefined()
  })
})

describe('completion scripts', () => {
  it.each(shells)('%s: names the config values and says to regenerate', (shell) => {
    const script = completionScript(shell, model, '1.2.3')
    expect(script).toContain('hms 1.2.3')
    expect(script).toContain('run the command again after changing them')
    for (const word of ['shoshin', 'kinoite', '.#mitsio@shoshin-wsl', 'zstd', 'generation', 'doctor', 'pending'])
      expect(script).toContain(word)
  })

  it('registers each script the way its shell expects', () => {
    expect(completionScript('bash', model, '1').trimEnd().endsWith('complete -F _hms hms')).toBe(true)
    expect(completionScript('zsh', model, '1').startsWith('#compdef hms\n')).toBe(true)
    expect(completionScript('fish', model, '1')).toContain(
      "complete -c hms -n '__fish_seen_subcommand_from log' -s n -l lines -x",
    )
  })
})
