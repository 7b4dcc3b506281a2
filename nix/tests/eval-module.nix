# Evaluates ../module.nix with the stand-in lib (./stub-lib.nix) and fake
# home-manager `config`/`pkgs`; used by test/nix.test.ts:
#
#   nix-instantiate --eval --strict --json nix/tests/eval-module.nix \
#     --argstr definitions '{"enable":true}' [--arg isLinux false] [--argstr packagePath /tmp/x]
{
  # JSON of the programs.hms definitions.
  definitions ? "{}",
  isLinux ? true,
  # Where the fake hms package "is"; a test can put a bin/hms there.
  packagePath ? "/nix/store/00000000000000000000000000000000-hms-0.1.0",
}:
let
  lib = import ./stub-lib.nix;
  hmsPackage = {
    type = "derivation";
    name = "hms-0.1.0";
    outPath = packagePath;
    meta.mainProgram = "hms";
  };
  pkgs = {
    stdenv.hostPlatform = {
      inherit isLinux;
      system = if isLinux then "x86_64-linux" else "aarch64-darwin";
    };
    # The module's fallback when the flake does not hand it a package.
    callPackage = file: _: if baseNameOf file == "package.nix" then hmsPackage else throw "callPackage ${toString file}";
    writeShellScript = name: text: builtins.toFile name "#!/usr/bin/env bash\n${text}";
  };
  config = {
    home.homeDirectory = "/home/alice";
    home.profileDirectory = "/home/alice/.nix-profile";
    xdg.stateHome = "/home/alice/.local/state";
    programs.hms = lib.fill "programs.hms" module.options.programs.hms (builtins.fromJSON definitions);
  };
  module = import ../module.nix { } { inherit config lib pkgs; };
  out = lib.resolve module.config;
in
{
  configJson = out.xdg.configFile."hms/config.json".text or null;
  activation = out.home.activation or { };
  systemd = out.systemd.user or { };
  shellAliases = out.home.shellAliases or { };
  packages = map toString (out.home.packages or [ ]);
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) (out.assertions or [ ]));
  warnings = out.warnings or [ ];
  optionPaths = lib.optionPaths "programs.hms" module.options.programs.hms;
  topLevel = builtins.attrNames out;
}
