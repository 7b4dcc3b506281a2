# A stand-in nixpkgs package set for evaluating ../package.nix and ../../flake.nix with the real
# nixpkgs lib: build helpers return their arguments on top of a derivation that is never built
# (so `nix flake check --no-build` takes them), packages are names with a store-like path. Like
# nixpkgs, it refuses insecure packages (nodejs_20) instead of evaluating them.
{
  lib,
  system ? "x86_64-linux",
  canExecute ? true,
}:
let
  fake = name: {
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  # Its inputs are what the real builder would see, so evaluating drvPath forces them.
  unbuilt =
    name: inputs:
    builtins.derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" "exit 1" ];
      inputs = map toString inputs;
    };
  pkgs = {
    inherit lib;
    stdenv.buildPlatform.canExecute = _: canExecute;
    stdenv.hostPlatform = lib.systems.elaborate system;
    buildNpmPackage = args: unbuilt "${args.pname}-${args.version}" args.nativeBuildInputs // args // { inherit system; };
    importNpmLock = {
      __functor = _: args: { importNpmLockArgs = args; };
      npmConfigHook = fake "npm-config-hook";
    };
    makeWrapper = fake "make-wrapper";
    installShellFiles = fake "install-shell-files";
    cachix = fake "cachix";
    home-manager = fake "home-manager";
    nodejs = fake "nodejs-24.11.0";
    nodejs_20 = throw "Package ‘nodejs-20.19.5’ in nixpkgs is marked as insecure, refusing to evaluate.";
    mkShell = args: unbuilt "shell" args.packages // args;
    callPackage =
      file: overrides:
      let
        f = import file;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
  };
in
pkgs
