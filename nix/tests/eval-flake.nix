# Calls the outputs function of ../../flake.nix with a fake nixpkgs input (the
# stand-in lib and ./stub-pkgs.nix), without the flake machinery; used by
# test/nix.test.ts.
let
  lib = import ./stub-lib.nix;
  flake = import ../../flake.nix;
  nixpkgs = {
    lib = lib // {
      genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    };
    legacyPackages = builtins.mapAttrs (system: _: import ./stub-pkgs.nix { inherit system; }) outputs.packages;
  };
  outputs = flake.outputs { inherit self nixpkgs; };
  self = outputs // { outPath = toString ../..; };
  systems = builtins.attrNames outputs.packages;
  # The module as the flake exports it, asked for its package's default.
  moduleFor =
    system:
    (outputs.homeModules.default {
      inherit lib;
      pkgs = import ./stub-pkgs.nix { inherit system; };
      config = { };
    }).options.programs.hms.package.default;
in
{
  inputs = builtins.attrNames flake.inputs;
  nixpkgsUrl = flake.inputs.nixpkgs.url;
  outputs = builtins.attrNames outputs;
  inherit systems;
  packages = builtins.mapAttrs (_: p: {
    attrs = builtins.attrNames p;
    default = { inherit (p.default) pname system; inherit (p.default.meta) mainProgram; };
    same = p.default == p.hms;
  }) outputs.packages;
  homeModules = builtins.attrNames outputs.homeModules;
  homeManagerModules = builtins.attrNames outputs.homeManagerModules;
  overlay = (outputs.overlays.default (import ./stub-pkgs.nix { }) { }).hms.pname;
  modulePackage = builtins.listToAttrs (map (system: { name = system; value = (moduleFor system).system; }) systems);
  checks = builtins.mapAttrs (_: c: builtins.attrNames c) outputs.checks;
  devShells = builtins.mapAttrs (_: d: builtins.attrNames d) outputs.devShells;
}
