# home-manager module for hms: `programs.hms` (the command, its config file, the shell
# integration, the push on activation) and `services.hms` (./service.nix: a systemd user unit that
# pushes every new generation).
#
# A function returning the module, so that the flake can hand it its own package:
#
#   homeManagerModules.default = import ./nix/module.nix { inherit self; };
#
# Without a flake: `imports = [ (import /path/to/hms/nix/module.nix { }) ];`
# (the package is then built from this checkout with the configuration's pkgs).
{
  self ? null,
}:
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib)
    literalExpression
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    types
    ;

  cfg = config.programs.hms;
  system = pkgs.stdenv.hostPlatform.system;

  jsonFormat = pkgs.formats.json { };
  settings = import ./settings-options.nix { inherit lib jsonFormat; };
  settingsJson = settings.toJSONValue cfg.settings;
  checkSettings = import ./check-settings.nix { inherit lib; };
  settingsProblems = checkSettings.problems settingsJson;
  storeUrl = import ./store-url.nix;

  hms = lib.getExe cfg.package;

  # `home-manager switch …` → `hms switch …`; every other subcommand goes to the real
  # home-manager (aliases do not apply inside the script).
  homeManagerAlias = pkgs.writeShellScript "hms-home-manager-alias" ''
    if [ "''${1-}" = switch ]; then
      shift
      exec ${hms} switch "$@"
    fi
    exec home-manager "$@"
  '';

  # Runs inside home-manager's activation script (bash, `set -eu -o pipefail`). The push runs
  # detached, with every descriptor closed, so the activation neither waits for it nor sees it
  # fail; a dry run only prints the command.
  activationScript = ''
    if [[ -v DRY_RUN ]]; then
      run ${hms} push --background ''${newGenPath:+"$newGenPath"} || true
    else
      ${hms} push --background ''${newGenPath:+"$newGenPath"} < /dev/null > /dev/null 2>&1 &
      disown $! 2> /dev/null || true
    fi
  '';

  # Off by default, unlike most shell integrations: it changes what `home-manager` does.
  integrationOption =
    shell:
    mkEnableOption "the `home-manager` alias in ${shell}: `home-manager switch …` runs `hms switch …`, every other subcommand the real home-manager";
in
{
  # A function's result has no file of its own: name it, for error messages and meta.maintainers.
  _file = ./module.nix;
  key = "hms/nix/module.nix";

  imports = [
    ./service.nix
    (lib.mkRenamedOptionModule
      [ "programs" "hms" "autoPush" "activation" "enable" ]
      [ "programs" "hms" "pushOnActivation" ]
    )
    (lib.mkRenamedOptionModule [ "programs" "hms" "autoPush" "systemd" "enable" ] [ "services" "hms" "enable" ])
    (lib.mkRemovedOptionModule [ "programs" "hms" "autoPush" "systemd" "profilePath" ] ''
      services.hms watches the profile directories instead (services.hms.profileDirectories).
    '')
    (lib.mkRemovedOptionModule [ "programs" "hms" "shellAliases" ] ''
      Use programs.hms.enableBashIntegration, enableZshIntegration and enableFishIntegration.
    '')
  ];

  meta.maintainers = [ (import ./maintainers.nix).hms ];

  options.programs.hms = {
    enable = mkEnableOption "hms, `home-manager switch` that pushes what it built to a binary cache";

    package = mkOption {
      type = types.nullOr types.package;
      default =
        if self != null && self ? packages.${system}.default then
          self.packages.${system}.default
        else
          pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "hms.packages.\${pkgs.stdenv.hostPlatform.system}.default";
      description = ''
        The hms package; it brings its own cachix and home-manager. `null`: hms is not installed
        by this module (the config file is still written); the shell integrations,
        {option}`programs.hms.pushOnActivation` and {option}`services.hms.enable` need a package.
      '';
    };

    settings = mkOption {
      inherit (settings) type;
      default = { };
      example = literalExpression ''
        {
          cache = "my-cache";
          flake = "~/nix-config";
          profiles.laptop.hosts = [ "thinkpad" ];
          push = { jobs = 4; compressionMethod = "zstd"; exclude = [ "-doc$" ]; };
        }
      '';
      description = ''
        Written to {file}`$XDG_CONFIG_HOME/hms/config.json`, leaving out every option that is
        null. When nothing is set, no file is written and a config.json of your own (e.g. from
        `hms init`) is left alone. Every value hms would refuse is refused here, at evaluation
        time, with hms's own message. The keys are those of hms's config file (README, "Config file").
      '';
    };

    enableBashIntegration = integrationOption "Bash";
    enableZshIntegration = integrationOption "Zsh";
    enableFishIntegration = integrationOption "Fish";

    pushOnActivation = mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = ''
        Whether every activation starts `hms push --background <new generation>` (an activation
        entry after `linkGeneration`), detached with its output discarded: it never fails or
        delays the activation. Works on every system; on Linux, {option}`services.hms.enable` also
        catches generations activated while nothing ran this entry.
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      home.packages = lib.optional (cfg.package != null) cfg.package;

      assertions = [
        {
          assertion = settingsProblems == [ ];
          message = "programs.hms.settings: hms would refuse this config.json:\n"
            + lib.concatMapStrings (p: "  ${p}\n") settingsProblems;
        }
        {
          assertion =
            cfg.package != null
            || !(cfg.pushOnActivation || cfg.enableBashIntegration || cfg.enableZshIntegration || cfg.enableFishIntegration);
          message = "programs.hms.package is null, but pushOnActivation and the shell integrations run hms.";
        }
      ]
      ++ lib.mapAttrsToList (name: c: {
        assertion = !lib.hasPrefix "${builtins.storeDir}/" (c.secretKeyFile or "");
        message = "programs.hms.settings.caches.${name}.secretKeyFile is in the Nix store, where anyone can read it; point it to a file outside the store.";
      }) (settingsJson.caches or { })
      # config.json is a link into the world-readable store: no password may go into it.
      ++ map (r: {
        assertion = storeUrl.withoutCredentials r.url == r.url;
        message = "programs.hms.settings.${r.at} carries a password, and config.json would be in the Nix store, where anyone can read it; write ${storeUrl.withoutCredentials r.url} and put the credentials in the netrc file Nix reads (docs/caches.md, \"Credentials\").";
      }) (lib.optionals (settingsProblems == [ ]) (checkSettings.urls settingsJson));
    }

    (mkIf (settingsJson != { }) {
      xdg.configFile."hms/config.json".source = jsonFormat.generate "hms-config.json" settingsJson;
    })

    (mkIf cfg.enableBashIntegration { programs.bash.shellAliases.home-manager = "${homeManagerAlias}"; })
    (mkIf cfg.enableZshIntegration { programs.zsh.shellAliases.home-manager = "${homeManagerAlias}"; })
    (mkIf cfg.enableFishIntegration { programs.fish.shellAliases.home-manager = "${homeManagerAlias}"; })

    (mkIf cfg.pushOnActivation {
      home.activation.hmsPush = lib.hm.dag.entryAfter [ "linkGeneration" ] activationScript;
    })
  ]);
}
