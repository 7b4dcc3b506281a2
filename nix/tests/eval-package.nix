# Evaluates ../package.nix with the real nixpkgs lib and ./stub-pkgs.nix (build helpers that
# return their arguments); used by test/nix.test.ts:
#
#   nix-instantiate --eval --strict --json --read-write-mode nix/tests/eval-package.nix \
#     --arg nixpkgs /tmp/x/nixpkgs
{
  nixpkgs,
  canExecute ? true,
}:
let
  lib = import (nixpkgs + "/lib");
  pkgs = import ./stub-pkgs.nix { inherit lib canExecute; };
  drv = pkgs.callPackage ../package.nix { };
in
{
  inherit (drv) pname version postInstall meta;
  # What the build sees (needs --read-write-mode: the source is copied into the store).
  src = builtins.attrNames (builtins.readDir drv.src);
  npmConfigHook = drv.npmConfigHook.name;
  nativeBuildInputs = map (p: p.name) drv.nativeBuildInputs;
  npmRoot = toString drv.npmDeps.importNpmLockArgs.npmRoot;
  lockPackages = drv.npmDeps.importNpmLockArgs.packageLock.packages;
}
