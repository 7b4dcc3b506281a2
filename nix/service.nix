# `services.hms`: push every new home-manager generation, however it was activated (hms,
# plain `home-manager switch`, the NixOS/nix-darwin module at boot), from a systemd user unit.
#
# Why the profile *directories* are watched, not the `home-manager` profile link: the link is
# replaced by renaming a new link over it (`nix-env --set`), and a systemd path unit only counts
# events on the watch of the path itself, which follows the link into the read-only store, where
# nothing happens (systemd issues #31941, #17727). The directory's own watch sees IN_MOVED_TO for
# the new link; test/nix-profile-watch.test.ts shows both on a real `nix-env --profile P --set`.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) mkEnableOption mkIf mkOption types;

  cfg = config.services.hms;
  hms = lib.getExe cfg.package;

  # Pushes what is pending, then the current generation until it stops changing: a generation
  # activated while this runs is pushed by the next round, not lost, and a second trigger for a
  # generation already pushed does nothing (the stamp), so firing twice costs nothing.
  pushScript = pkgs.writeShellScript "hms-push-generations" ''
    set -u
    stamp="''${XDG_STATE_HOME:-$HOME/.local/state}/hms/last-generation-pushed"
    current() {
      for dir in ${lib.escapeShellArgs cfg.profileDirectories}; do
        if [ -e "$dir/home-manager" ]; then
          ${pkgs.coreutils}/bin/readlink -f "$dir/home-manager"
          return
        fi
      done
    }
    ${hms} push --pending || echo "hms push --pending failed; the next run tries again" >&2
    while generation=$(current) && [ -n "$generation" ]; do
      [ "$generation" = "$(${pkgs.coreutils}/bin/cat "$stamp" 2> /dev/null)" ] && exit 0
      # On failure hms queues what it could not push: the next run's --pending retries it.
      ${hms} push "$generation" || exit
      ${pkgs.coreutils}/bin/mkdir -p "''${stamp%/*}"
      echo "$generation" > "$stamp"
    done
  '';
in
{
  options.services.hms = {
    enable = mkEnableOption ''
      a systemd user service that pushes every new home-manager generation, however it was
      activated: a path unit watches the profile directories and starts `hms-push.service`, which
      runs `hms push --pending`, then pushes the current generation unless it was pushed already.
      It also runs once when the user's systemd starts, for generations activated meanwhile
    '';

    package = mkOption {
      type = types.nullOr types.package;
      default = config.programs.hms.package;
      defaultText = lib.literalExpression "config.programs.hms.package";
      description = "The hms package the service runs.";
    };

    profileDirectories = mkOption {
      type = types.listOf types.str;
      default = [
        "${config.xdg.stateHome}/nix/profiles"
        "/nix/var/nix/profiles/per-user/${config.home.username}"
      ];
      defaultText = lib.literalExpression ''
        [ "''${config.xdg.stateHome}/nix/profiles" "/nix/var/nix/profiles/per-user/''${config.home.username}" ]
      '';
      description = ''
        Directories that may hold the `home-manager` profile link, in home-manager's order of
        preference (the first with a `home-manager` link is the current one). All are watched:
        systemd watches a missing one's parent until it appears.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      (lib.hm.assertions.assertPlatform "services.hms" pkgs lib.platforms.linux)
      {
        assertion = cfg.package != null;
        message = "services.hms.package is null (it follows programs.hms.package): the service needs an hms to run.";
      }
    ];

    systemd.user.paths.hms-push = {
      Unit.Description = "Watch the home-manager profiles for new generations to push";
      Path = {
        PathChanged = cfg.profileDirectories;
        Unit = "hms-push.service";
      };
      Install.WantedBy = [ "default.target" ];
    };

    systemd.user.services.hms-push = {
      Unit.Description = "Push new home-manager generations to the binary cache";
      Service = {
        Type = "oneshot";
        ExecStart = "${pushScript}";
        # hms and cachix talk to Nix; user managers start with a bare PATH.
        Environment = [
          "PATH=${config.home.profileDirectory}/bin:/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin"
        ];
        Nice = 10;
      };
      Install.WantedBy = [ "default.target" ];
    };
  };
}
