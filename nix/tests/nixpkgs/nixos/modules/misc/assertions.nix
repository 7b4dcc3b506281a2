# Stand-in for nixpkgs' nixos/modules/misc/assertions.nix, which home-manager imports through
# `pkgs.path` (the archive in ../shared/third-party has nixpkgs' lib only): the same two options.
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      internal = true;
      default = [ ];
      description = "Conditions that must hold, with the message shown when one does not.";
    };
    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      internal = true;
      default = [ ];
      description = "Warnings shown during evaluation.";
    };
  };
}
