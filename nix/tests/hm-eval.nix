# Evaluates ../module.nix inside the real home-manager (its lib.homeManagerConfiguration, full
# module list) with the real nixpkgs lib and ./hm-pkgs.nix; used by test/nix-hm.test.ts:
#
#   nix-instantiate --eval --strict --json --read-write-mode nix/tests/hm-eval.nix \
#     --arg homeManager /tmp/x/home-manager --arg nixpkgs /tmp/x/nixpkgs \
#     --argstr definitions '{"programs":{"hms":{"enable":true}}}' [--argstr system aarch64-darwin]
{
  homeManager,
  # A nixpkgs-like tree: the real lib/ with ./nixpkgs/{default.nix,nixos} beside it.
  nixpkgs,
  # JSON of a home-manager module's `config` (e.g. programs.hms.*, services.hms.*).
  definitions ? "{}",
  system ? "x86_64-linux",
  hmsPath ? "/nix/store/00000000000000000000000000000000-hms-0.1.0",
}:
let
  lib = import (nixpkgs + "/lib");
  pkgs = import ./hm-pkgs.nix { inherit lib system hmsPath nixpkgs; };
  modules = [
    (import ../module.nix { })
    (builtins.fromJSON definitions)
    {
      home.username = "alice";
      home.homeDirectory = "/home/alice";
      home.stateVersion = "24.05";
      # Its man pages are built from docs/, which the archives leave out.
      manual.manpages.enable = false;
      # The stand-in pkgs claim nixpkgs' lib version, newer than some home-manager releases.
      home.enableNixpkgsReleaseCheck = false;
    }
  ];
  # 24.05 has no lib/default.nix: its flake calls modules/ as below, which is what
  # homeManagerConfiguration (lib/eval-config.nix) does in later versions.
  hm =
    if builtins.pathExists (homeManager + "/lib/default.nix") then
      (import (homeManager + "/lib") { inherit lib; }).homeManagerConfiguration { inherit pkgs modules; }
    else
      import (homeManager + "/modules") {
        inherit pkgs;
        configuration = {
          imports = modules;
          nixpkgs = {
            config = lib.mkDefault pkgs.config;
            inherit (pkgs) overlays;
          };
        };
      };
  inherit (hm) config options;
  file = name: config.xdg.configFile.${name}.source or null;
  sourceOf = name: if file name == null then null else toString (file name);
  # The derivations behind a source string, so a test can build them and read the text.
  drvsOf = s: if s == null then [ ] else builtins.attrNames (builtins.getContext s);
  # Files a test builds and reads: name → { path, drvs }.
  built = path: if path == null then null else { inherit path; drvs = drvsOf path; };
  # home.file keys vary (".zshrc", "./.zshrc"): the first ending in the name.
  homeFile =
    name:
    let
      key = lib.findFirst (k: k == name || lib.hasSuffix "/${name}" k) null (builtins.attrNames config.home.file);
    in
    if key == null then null else toString config.home.file.${key}.source;
in
# Failed assertions never get here: home-manager throws them ("Failed assertions: …").
{
  configJson = sourceOf "hms/config.json";
  files = {
    pathUnit = built (sourceOf "systemd/user/hms-push.path");
    serviceUnit = built (sourceOf "systemd/user/hms-push.service");
    bashrc = built (homeFile ".bashrc");
    zshrc = built (homeFile ".zshrc");
    fishConfig = built (sourceOf "fish/config.fish");
    alias = built (config.programs.bash.shellAliases.home-manager or null);
  };
  wantedBy = builtins.filter (n: lib.hasInfix "hms-push" n) (builtins.attrNames config.xdg.configFile);
  activation = builtins.mapAttrs (_: e: { inherit (e) after before data; }) (
    lib.filterAttrs (n: _: n == "hmsPush") config.home.activation
  );
  # The order home-manager runs its activation entries in.
  activationOrder = map (e: e.name) (config.lib.dag.topoSort config.home.activation).result;
  aliases = {
    bash = config.programs.bash.shellAliases.home-manager or null;
    zsh = config.programs.zsh.shellAliases.home-manager or null;
    fish = config.programs.fish.shellAliases.home-manager or null;
  };
  packages = map (p: p.name) (builtins.filter (p: lib.hasPrefix "hms" (p.name or "")) config.home.packages);
  warnings = builtins.filter (lib.hasInfix "hms") config.warnings;
  # What home-manager's manual renders for these options (its docs use optionAttrSetToDocList).
  options = map (o: { inherit (o) name type; description = o.description or ""; }) (
    builtins.filter (o: o.visible && !o.internal) (
      lib.optionAttrSetToDocList { programs.hms = options.programs.hms; services.hms = options.services.hms; }
    )
  );
  maintainers = lib.mapAttrsToList (file: ms: { inherit file; names = map (m: m.name) ms; }) (
    lib.filterAttrs (f: _: lib.hasInfix "module.nix" f) config.meta.maintainers
  );
}
