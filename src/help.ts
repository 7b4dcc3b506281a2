import { hmsOptions } from './args.js'

export function helpText(): string {
  const width = 36
  const options = hmsOptions.map((spec) => {
    const names = spec.names.length === 1 ? `    ${spec.names[0]}` : spec.names.join(', ')
    const left = `  ${names}${spec.value ? ` <${spec.value}>` : ''}`
    return `${left.padEnd(width)} ${spec.description}`
  })
  return `hms — home-manager switch, then push exactly what was built to your binary cache

Usage:
  hms [switch] [options] [home-manager options…]

Options:
${options.join('\n')}

Every other option (-b, -B, -c, -j, -n, -f, -A, -I, -L, --impure, --show-trace,
--option k v, --arg n v, …) goes to home-manager unchanged and in order; so does
everything after --.

Examples:
  hms                                   switch this host's profile and push
  hms --flake .#mitsio@shoshin          pick the configuration (and so the profile)
  hms -p gyakusatsu --cache my-cache    force a profile and a cache
  hms -b backup --show-trace            home-manager's own flags pass through
  hms --plan                            show what would run, and why
  hms --json > summary.json             machine-readable summary on stdout
  hms --no-push                         just switch

Exit codes: 0 ok · home-manager's code when the switch failed · 2 usage or config error ·
3 push failed under --strict · 127 home-manager missing · 130 interrupted`
}
