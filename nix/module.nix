# home-manager module for hms: `programs.hms`.
#
# This file is a function returning the module, so that the flake can hand it
# its own package:
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

  defaultPackage =
    if self != null && self ? packages.${system}.default then
      self.packages.${system}.default
    else
      pkgs.callPackage ./package.nix { };

  hms = lib.getExe cfg.package;

  # An option of config.json: unset (null) means "left out of the file", so that
  # hms applies its own default.
  nullable =
    type: description:
    mkOption {
      type = types.nullOr type;
      default = null;
      inherit description;
    };

  profileOptions = {
    hosts = nullable (types.listOf types.nonEmptyStr) ''
      Host names (short, without domain) that use this profile. hms's default is
      `[ <profile name> ]`.
    '';
    cache = nullable types.nonEmptyStr ''
      Binary cache for the hosts of this profile, instead of the top-level `cache`.
    '';
  };

  cacheOptions = {
    url = mkOption {
      type = types.nonEmptyStr;
      example = "https://example.cachix.org";
      description = "URL of the binary cache.";
    };
    secretKeyFile = nullable types.nonEmptyStr ''
      Path of the file holding the cache's signing key, read by hms at run time.
      A string on purpose: a Nix path literal would copy the secret into the
      world-readable Nix store.
    '';
  };

  pushOptions = {
    jobs = nullable types.ints.positive "Parallel uploads (`cachix push --jobs`).";
    compressionMethod = nullable (types.enum [
      "xz"
      "zstd"
    ]) "Compression of uploaded NARs (`cachix push --compression-method`).";
    strict = nullable types.bool ''
      Whether a failed or impossible push is an error (like `--strict`). hms's default: false.
    '';
    mode = nullable (types.enum [
      "watch-exec"
      "generation"
    ]) ''
      How `hms switch` pushes: `watch-exec` (everything built during the switch,
      via `cachix watch-exec`) or `generation` (the new generation's closure
      afterwards). hms's default: `watch-exec`.
    '';
    autoRetry = nullable types.bool "Whether failed pushes are retried. hms's default: true.";
    retries = nullable types.ints.unsigned "How many times a failed push is retried. hms's default: 2.";
    exclude = nullable (types.listOf types.str) "Store paths matching these patterns are not pushed.";
  };

  settingsOptions = {
    cache = nullable types.nonEmptyStr ''
      Cachix cache hms pushes to when the host's profile names none.
    '';
    user = nullable types.nonEmptyStr ''
      User name in the flake attribute `<flake>#<user>@<host>`. hms's default: `$USER`.
    '';
    flake = nullable types.nonEmptyStr ''
      Flake holding the home configurations, e.g. `"~/nix-config"`; hms runs
      `home-manager switch --flake <flake>#<user>@<host>`.
    '';
    profiles = mkOption {
      type = types.attrsOf (types.submodule { options = profileOptions; });
      default = { };
      example = literalExpression ''{ laptop = { hosts = [ "thinkpad" ]; cache = "my-laptops"; }; }'';
      description = ''
        Profiles: groups of hosts sharing a cache. Left out of config.json when
        empty; when set, it replaces hms's built-in profiles as a whole.
      '';
    };
    caches = mkOption {
      type = types.attrsOf (types.submodule { options = cacheOptions; });
      default = { };
      description = "Binary caches that are not plain Cachix caches, by name.";
    };
    push = mkOption {
      type = types.submodule { options = pushOptions; };
      default = { };
      description = "How hms pushes.";
    };
    quotaBytes = nullable types.ints.positive ''
      Size of the cache's storage quota in bytes, for `hms status`. hms's default: 5 GiB (Cachix's free tier).
    '';
  };

  # The settings as config.json wants them: no nulls anywhere, no empty
  # top-level objects, and none of the `_module` attributes that the module
  # system puts into every submodule value.
  withoutNulls =
    value:
    if builtins.isAttrs value then
      builtins.mapAttrs (_: withoutNulls) (lib.filterAttrs (n: v: n != "_module" && v != null) value)
    else
      value;
  configJson = lib.filterAttrs (_: v: v != { }) (withoutNulls cfg.settings);

  # `home-manager switch …` → `hms switch …`; every other subcommand goes to
  # the real home-manager (aliases do not apply inside the script).
  homeManagerAlias = pkgs.writeShellScript "hms-home-manager-alias" ''
    if [ "''${1-}" = switch ]; then
      shift
      exec ${hms} switch "$@"
    fi
    exec home-manager "$@"
  '';

  # Runs inside home-manager's activation script (bash, `set -eu -o pipefail`).
  # The push runs detached, with every descriptor closed, so the activation
  # neither waits for it nor sees it fail; a dry run only prints the command.
  activationScript = ''
    if [[ -v DRY_RUN ]]; then
      run ${hms} push --background ''${newGenPath:+"$newGenPath"} || true
    else
      ${hms} push --background ''${newGenPath:+"$newGenPath"} < /dev/null > /dev/null 2>&1 &
      disown $! 2> /dev/null || true
    fi
  '';
in
{
  _file = ./module.nix;
  key = "hms/nix/module.nix";

  options.programs.hms = {
    enable = mkEnableOption "hms, `home-manager switch` that pushes what it built to a binary cache";

    package = mkOption {
      type = types.package;
      default = defaultPackage;
      defaultText = literalExpression "hms.packages.\${pkgs.stdenv.hostPlatform.system}.default";
      description = "The hms package. It brings its own cachix and home-manager.";
    };

    settings = mkOption {
      type = types.submodule { options = settingsOptions; };
      default = { };
      example = literalExpression ''
        {
          cache = "my-cache";
          flake = "~/nix-config";
          profiles.laptop.hosts = [ "thinkpad" ];
          push = { jobs = 4; compressionMethod = "zstd"; };
        }
      '';
      description = ''
        Written to {file}`$XDG_CONFIG_HOME/hms/config.json`, leaving out every
        option that is null. When nothing is set, no file is written and a
        config.json of your own (e.g. from `hms init`) is left alone.
      '';
    };

    shellAliases = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether `home-manager switch …` typed in an interactive shell runs
        `hms switch …` instead. Adds a `home-manager` entry to
        {option}`home.shellAliases` pointing to a small script that sends
        `switch` to hms and every other subcommand to home-manager.
      '';
    };

    autoPush = {
      activation.enable = mkOption {
        type = types.bool;
        default = false;
        example = true;
        description = ''
          Whether to push the new generation after every activation: an
          activation script entry after `linkGeneration` starts
          `hms push --background <generation>` detached, with its output
          discarded. It never fails or delays the activation.
        '';
      };

      systemd = {
        enable = mkOption {
          type = types.bool;
          default = false;
          example = true;
          description = ''
            Whether to run a systemd user path unit that watches the
            home-manager profile and, whenever it changes, starts the oneshot
            service `hms-push`: `hms push --pending`, then `hms push`. Linux only.
          '';
        };

        profilePath = mkOption {
          type = types.str;
          default = "${config.xdg.stateHome}/nix/profiles/home-manager";
          defaultText = literalExpression ''"''${config.xdg.stateHome}/nix/profiles/home-manager"'';
          example = "/nix/var/nix/profiles/per-user/alice/home-manager";
          description = ''
            The home-manager profile link watched by the path unit. Change it if
            your generations live in the legacy per-user profile directory.
          '';
        };
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      home.packages = [ cfg.package ];

      assertions = [
        {
          assertion = !cfg.autoPush.systemd.enable || pkgs.stdenv.hostPlatform.isLinux;
          message = "programs.hms.autoPush.systemd.enable needs systemd, which is Linux only; use programs.hms.autoPush.activation.enable instead.";
        }
      ]
      ++ lib.mapAttrsToList (name: c: {
        assertion = c.secretKeyFile == null || !lib.hasPrefix "${builtins.storeDir}/" c.secretKeyFile;
        message = "programs.hms.settings.caches.${name}.secretKeyFile is in the Nix store, where anyone can read it; point it to a file outside the store.";
      }) cfg.settings.caches;

      warnings = lib.optional (cfg.autoPush.activation.enable && cfg.autoPush.systemd.enable) ''
        programs.hms: both autoPush.activation and autoPush.systemd are on, so every new generation is pushed twice; one of them is enough.
      '';
    }

    (mkIf (configJson != { }) {
      xdg.configFile."hms/config.json".text = builtins.toJSON configJson;
    })

    (mkIf cfg.shellAliases {
      home.shellAliases.home-manager = "${homeManagerAlias}";
    })

    (mkIf cfg.autoPush.activation.enable {
      home.activation.hmsAutoPush = lib.hm.dag.entryAfter [ "linkGeneration" ] activationScript;
    })

    (mkIf cfg.autoPush.systemd.enable {
      systemd.user.paths.hms-push = {
        Unit.Description = "Push new home-manager generations to the binary cache";
        Path = {
          PathChanged = cfg.autoPush.systemd.profilePath;
          Unit = "hms-push.service";
        };
        Install.WantedBy = [ "default.target" ];
      };

      systemd.user.services.hms-push = {
        Unit.Description = "Push to the binary cache what hms has not pushed yet";
        Service = {
          Type = "oneshot";
          # `-`: the generation push runs even when the pending one failed.
          ExecStart = [
            "-${hms} push --pending"
            "${hms} push"
          ];
          # hms and cachix talk to Nix; user managers start with a bare PATH.
          Environment = [
            "PATH=${config.home.profileDirectory}/bin:/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin"
          ];
          Nice = 10;
        };
      };
    })
  ]);
}
