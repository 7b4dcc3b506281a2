#!/usr/bin/env node
// `npm run demo`: hms's main job on a throwaway home, built with real Nix and pushed to a local
// file:// binary cache; then a second "host" pulls the generation from that cache.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
// Bold headings only where hms itself would colour (src/ui/output.ts colorLevel): `npm run demo | cat`
// must not get escape codes. FORCE_COLOR wins, then NO_COLOR, then a terminal that is not dumb.
function colour(env, isTTY) {
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  if (env.NO_COLOR) return false
  return Boolean(isTTY) && env.TERM !== 'dumb'
}
const bold = colour(process.env, process.stdout.isTTY) ? (text) => `\u001b[1m${text}\u001b[0m` : (text) => text
const say = (text) => process.stdout.write(`\n${bold(`▶ ${text}`)}\n`)

function requireNix() {
  const found = spawnSync('nix-build', ['--version'], { encoding: 'utf8' })
  if (found.status === 0)
    return dirname(execFileSync('sh', ['-c', 'command -v nix-build'], { encoding: 'utf8' }).trim())
  console.error(
    'The demo needs Nix. On Debian/Ubuntu: sudo apt-get install -y nix-bin; elsewhere: ' +
      'https://nixos.org/download (see README, "Installing Nix").',
  )
  process.exit(1)
}

const nixBin = requireNix()
const root = mkdtempSync(join(tmpdir(), 'hms-demo-'))
const home = join(root, 'home')
const flake = join(root, 'flake')
const cache = join(root, 'cache')
mkdirSync(home)
// Only home-manager's stand-in: a file:// cache is pushed by hms itself, no cachix involved.
const bin = join(root, 'bin')
mkdirSync(bin)
symlinkSync(join(repo, 'test', 'fixtures', 'bin', 'home-manager'), join(bin, 'home-manager'))
cpSync(join(repo, 'test', 'fixtures', 'home'), flake, { recursive: true })
const packagesFile = join(flake, 'packages.json')
const packages = JSON.parse(readFileSync(packagesFile, 'utf8'))
packages.salt = `demo-${Date.now()}`
writeFileSync(packagesFile, JSON.stringify(packages, null, 2))

const env = {
  PATH: [bin, nixBin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
  HOME: home,
  USER: 'mitsio',
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_STATE_HOME: join(home, '.local', 'state'),
  XDG_CACHE_HOME: join(home, '.cache'),
  // No network here: never wait on cache.nixos.org.
  NIX_CONFIG: 'substituters =\n',
  TERM: process.env.TERM ?? 'dumb',
}

function hms(...args) {
  say(`hms ${args.join(' ')}`)
  const run = spawnSync(process.execPath, [join(repo, 'bin', 'hms.js'), ...args], { cwd: flake, env, stdio: 'inherit' })
  if (run.status !== 0) {
    console.error(`demo: hms exited with ${run.status}`)
    process.exit(run.status ?? 1)
  }
}

const cacheUrl = `file://${cache}`
hms('--flake', '.#mitsio@shoshin', '--cache', cacheUrl)

const narinfos = () => readdirSync(cache).filter((f) => f.endsWith('.narinfo')).length
say(`the cache at ${cache} now holds ${narinfos()} store paths`)

packages.packages.ripgrep = '14.2'
writeFileSync(packagesFile, JSON.stringify(packages, null, 2))
say('ripgrep 14.1 → 14.2 in the home configuration; hms pushes only what changed')
hms('--flake', '.#mitsio@shoshin', '--cache', cacheUrl)

const generation = execFileSync('readlink', ['-f', join(env.XDG_STATE_HOME, 'nix', 'profiles', 'home-manager')], {
  encoding: 'utf8',
}).trim()
const other = join(root, 'other-host')
say(`another host pulls ${generation} from the cache`)
const pull = spawnSync(
  'nix-store',
  ['--store', other, '--option', 'substituters', cacheUrl, '--option', 'require-sigs', 'false', '-r', generation],
  { env, encoding: 'utf8' },
)
const fetched = (pull.stderr.match(/^copying path .* from /gm) ?? []).length
if (pull.status !== 0) {
  console.error(pull.stderr)
  process.exit(1)
}
process.stdout.write(`✔ the other host substituted ${fetched} paths from ${cacheUrl} and built nothing\n`)
say(`done; everything is under ${root}`)
