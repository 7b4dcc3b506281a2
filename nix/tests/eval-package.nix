# Evaluates ../package.nix with the stand-in lib and fake build helpers that
# return their arguments; used by test/nix.test.ts:
#
#   nix-instantiate --eval --strict --json nix/tests/eval-package.nix --arg canExecute true
{
  canExecute ? true,
}:
let
  pkgs = import ./stub-pkgs.nix { inherit canExecute; };
  drv = pkgs.callPackage ../package.nix { };
in
{
  inherit (drv) pname version postInstall meta;
  src = map (f: baseNameOf (toString f)) drv.src.fileset;
  npmConfigHook = drv.npmConfigHook.name;
  nativeBuildInputs = map (p: p.name) drv.nativeBuildInputs;
  npmRoot = toString drv.npmDeps.importNpmLockArgs.npmRoot;
  lockPackages = drv.npmDeps.importNpmLockArgs.packageLock.packages;
}
