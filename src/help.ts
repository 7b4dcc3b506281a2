import { describe, optionsOf, type Subcommand } from './args.js'

interface Topic {
  usage: string
  summary: string
  examples: [string, string][]
  footer?: string
}

/** Each subcommand's help; its options come from the parser's own tables, so help never drifts from behaviour. */
export const topics: Record<Subcommand, Topic> = {
  switch: {
    usage: 'hms [switch] [options] [home-manager options…]',
    summary: 'home-manager switch, then push exactly what was built to your binary cache',
    examples: [
      ['hms', "switch this host's profile and push"],
      ['hms --flake .#mitsio@shoshin', 'pick the configuration (and so the profile)'],
      ['hms -p gyakusatsu --cache my-cache', 'force a profile and a cache'],
      ['hms -b backup --show-trace', "home-manager's own flags pass through"],
      ['hms --plan', 'show what would run, and why'],
      ['hms --json > summary.json', 'machine-readable summary on stdout'],
      ['hms --no-push', 'just switch'],
    ],
    footer: `Every other option (-b, -B, -c, -j, -n, -f, -A, -I, -L, --impure, --show-trace,
--option k v, --arg n v, …) goes to home-manager unchanged and in order; so does
everything after --.

Commands: switch (default), push, status, log, verify, doctor, init, completion, help

Exit codes: 0 ok · home-manager's code when the switch failed · 2 usage or config error ·
3 push failed under --strict · 4 --verify failed under --strict · 127 home-manager missing · 130 interrupted`,
  },
  push: { usage: 'hms push [options] [paths…]', summary: 'push store paths (default: the current generation) or the pending queue', examples: [['hms push', 'push the current generation'], ['hms push --pending', 'push what earlier runs could not']] },
  status: { usage: 'hms status [--json]', summary: 'profile, cache, generation, pending pushes and recent runs', examples: [['hms status', '']] },
  log: { usage: 'hms log [-n N]', summary: 'recent runs, one line each', examples: [['hms log -n 5', '']] },
  verify: {
    usage: 'hms verify [--cache C] [--jobs N] [--timeout S] [--json] [paths…]',
    summary: 'check that every path of a closure (default: the current generation) is in the cache',
    examples: [
      ['hms verify', 'is the current generation whole in the cache?'],
      ['hms verify --cache file:///mnt/nas/nix-cache', 'check a store URL instead of the configured cache'],
      ['hms verify ./result --json', 'any closure; the full missing list as JSON'],
      ['hms switch --verify', 'switch, push, then verify; the result lands in the summary'],
    ],
    footer: `Looks for <hash>.narinfo: in the directory for file://, with HTTP HEAD for http(s):// and
Cachix (https://NAME.cachix.org), with nix path-info --store for s3://, ssh://, ssh-ng://.

Exit codes: 0 all present · 1 something is missing · 2 the cache could not be asked (the
reason is printed; nothing is counted as missing) or a usage error`,
  },
  doctor: {
    usage: 'hms doctor [--flake F] [-p P] [--cache C] [--json] [-q]',
    summary: 'check everything hms needs, with the fix for each problem',
    examples: [
      ['hms doctor', 'one line per check: ✔ fine, ✖ broken (with the fix), ! worth knowing'],
      ['hms doctor -p gyakusatsu', "check another profile's host, flake attribute and cache"],
      ['hms doctor --cache file:///mnt/nas/nix-cache', 'is this cache reachable?'],
      ['hms doctor --json', 'the same as JSON: { ok, checks: [{ id, status, message, fix }] }'],
    ],
    footer: 'Exit codes: 0 nothing failed (warnings and offline skips allowed) · 1 at least one check failed',
  },
  init: {
    usage: 'hms init [--cache C] [--flake F] [--user U] [--profile name=host[,host][:cache]]… [--force]',
    summary: 'write ~/.config/hms/config.json (from flags, or by asking on a terminal)',
    examples: [
      ['hms init', 'on a terminal: asks, proposing this host, $USER and ./flake.nix'],
      ['hms init --cache my-cache --flake ~/ws', 'one profile named after this host'],
      ['hms init --cache my-cache --profile shoshin=shoshin:skylake --profile kinoite', 'two profiles, one with its own cache'],
      ['hms init --cache file:///mnt/nas/nix-cache --force', 'replace an existing config'],
    ],
    footer: 'Writes $HMS_CONFIG, else $XDG_CONFIG_HOME/hms/config.json. Refuses to overwrite without --force (exit 1).',
  },
  completion: {
    usage: 'hms completion bash|zsh|fish',
    summary: 'print a shell completion script',
    examples: [
      ['hms completion bash > ~/.local/share/bash-completion/completions/hms', 'bash (or: eval "$(hms completion bash)" in ~/.bashrc)'],
      ['hms completion zsh > "${fpath[1]}/_hms"', 'zsh (or: source <(hms completion zsh) after compinit)'],
      ['hms completion fish > ~/.config/fish/completions/hms.fish', 'fish'],
    ],
    footer: 'Profile names, caches and --flake .#user@host attributes come from the config when the script is\nprinted: run the command again after changing profiles.',
  },
  help: { usage: 'hms help [command]', summary: 'show help for hms or one command', examples: [['hms help push', '']] },
}

export function helpText(topic: Subcommand = 'switch'): string {
  const { usage, summary, examples, footer } = topics[topic]
  const width = 36
  const options = optionsOf(topic).map((spec) => {
    const names = spec.names.length === 1 && spec.names[0]!.startsWith('--') ? `    ${spec.names[0]}` : spec.names.join(', ')
    const left = `  ${names}${spec.value ? ` <${spec.value}>` : ''}`
    return `${left.padEnd(width)} ${describe(spec, topic)}`
  })
  const exampleWidth = Math.max(...examples.map(([cmd]) => cmd.length)) + 4
  const exampleLines = examples.map(([cmd, what]) => `  ${cmd.padEnd(exampleWidth)}${what}`.trimEnd())
  return [`hms — ${summary}`, '', 'Usage:', `  ${usage}`, '', 'Options:', ...options, '', 'Examples:', ...exampleLines, ...(footer ? ['', footer] : [])].join('\n')
}
