// What a switch needs before it starts: home-manager and Nix on PATH.
import { ExitCode, HmsError } from '../lib/errors.js'
import { which } from '../lib/which.js'
import type { Env } from '../lib/env.js'

export function requireHomeManager(env: Env): string {
  const found = which('home-manager', env)
  if (!found) {
    throw new HmsError('home-manager not found on PATH', {
      exitCode: ExitCode.notFound,
      hint: 'install it: nix run home-manager/master -- init --switch, or add it to PATH',
    })
  }
  return found
}

/** home-manager cannot build without Nix; saying so up front beats a `command not found` from deep inside it. */
export function requireNix(env: Env): void {
  if (which('nix-build', env) || which('nix', env)) return
  throw new HmsError('nix not found on PATH', {
    exitCode: ExitCode.notFound,
    hint: 'install Nix (see "Installing Nix" in the README) or add its bin directory to PATH',
  })
}
