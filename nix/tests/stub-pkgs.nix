# Fake nixpkgs package set for the stand-in evaluations: build helpers return
# their arguments, packages are names with a store-like path.
{
  system ? "x86_64-linux",
  canExecute ? true,
}:
let
  lib = import ./stub-lib.nix;
  fake = name: {
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  pkgs = {
    inherit lib;
    stdenv.buildPlatform.canExecute = _: canExecute;
    stdenv.hostPlatform = {
      inherit system;
      isLinux = builtins.match ".*-linux" system != null;
    };
    buildNpmPackage = args: args // { inherit system; };
    importNpmLock = {
      __functor = _: args: { importNpmLockArgs = args; };
      npmConfigHook = fake "npm-config-hook";
    };
    makeWrapper = fake "make-wrapper";
    installShellFiles = fake "install-shell-files";
    cachix = fake "cachix";
    home-manager = fake "home-manager";
    nodejs_20 = fake "nodejs";
    mkShell = args: args;
    callPackage =
      file: overrides:
      let
        f = import file;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
  };
in
pkgs
