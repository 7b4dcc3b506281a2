import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSandbox, type Sandbox } from './helpers/sandbox.js'

const has = (shell: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${shell}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

let s: Sandbox
const scripts: Record<string, string> = {}

beforeAll(async () => {
  s = makeSandbox()
  const init = await s.hms([
    'init',
    '--cache',
    'top',
    '--user',
    'mitsio',
    '--profile',
    'desk=shoshin,desk2',
    '--profile',
    'kinoite',
  ])
  expect(init.exitCode, init.stderr).toBe(0)
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await s.hms(['completion', shell])
    expect(r.exitCode, r.stderr).toBe(0)
    scripts[shell] = join(s.root, `hms.${shell}`)
    writeFileSync(scripts[shell]!, r.stdout)
  }
})
afterAll(() => s?.cleanup())

/** Runs bash's completion function as readline would for `line` (a trailing space starts a new word). */
const bashComplete = (line: string) =>
  `words=(${line}); [[ "${line}" == *" " ]] && words+=(""); COMP_WORDS=("\${words[@]}"); ` +
  `COMP_CWORD=$((\${#words[@]} - 1)); _hms; echo "\${COMPREPLY[*]}"`

describe('hms completion', () => {
  it('bash: parses, registers, and completes subcommands, options and config values', async () => {
    expect((await s.run('bash', ['-n', scripts.bash!])).exitCode).toBe(0)
    const complete = async (line: string) =>
      (await s.run('bash', ['-c', `source ${scripts.bash}; ${bashComplete(line)}`])).stdout.trim()
    expect((await s.run('bash', ['-c', `source ${scripts.bash} && complete -p hms`])).stdout.trim()).toBe(
      'complete -F _hms hms',
    )
    expect(await complete('hms do')).toBe('doctor')
    expect(await complete('hms -p ')).toBe('desk kinoite')
    expect(await complete('hms --flake ')).toBe('.#mitsio@shoshin .#mitsio@desk2 .#mitsio@kinoite')
    expect(await complete('hms push --compression-method ')).toBe('xz zstd')
    expect(await complete('hms --mode ')).toBe('watch-exec generation')
    expect(await complete('hms completion ')).toBe('bash zsh fish')
    expect(await complete('hms log --l')).toBe('--lines')
  })

  it.runIf(has('zsh'))('zsh: parses and registers with compinit', async () => {
    expect((await s.run('zsh', ['-n', scripts.zsh!])).exitCode).toBe(0)
    const r = await s.run('zsh', [
      '-fc',
      `autoload -U compinit && compinit -u -D && source ${scripts.zsh} && print -r -- $_comps[hms]`,
    ])
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('_hms')
  })

  it.runIf(has('fish'))('fish: loads and completes', async () => {
    expect((await s.run('fish', ['-n', scripts.fish!])).exitCode).toBe(0)
    const complete = async (line: string) =>
      (await s.run('fish', ['--no-config', '-c', `source ${scripts.fish}; complete -C'${line}'`])).stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0])
    expect(await complete('hms -p ')).toEqual(['desk', 'kinoite'])
    expect(await complete('hms completion ')).toEqual(['bash', 'fish', 'zsh'])
    expect(await complete('hms push --pen')).toEqual(['--pending'])
  })

  it('asks for a shell, and suggests the closest', async () => {
    expect(await s.hms(['completion'])).toMatchObject({
      exitCode: 2,
      stderr: 'hms: hms completion needs a shell — hms completion bash|zsh|fish\n',
    })
    expect(await s.hms(['completion', 'bsh'])).toMatchObject({
      exitCode: 2,
      stderr: 'hms: no completion for shell "bsh" — did you mean "hms completion bash"?\n',
    })
  })
})
