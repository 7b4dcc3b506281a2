# flake.nix of a stand-in nixpkgs flake, for `--override-input nixpkgs path:<dir>` in
# test/nix.test.ts: the test puts the real nixpkgs lib (lib/) and ./stub-pkgs.nix beside it.
{
  outputs =
    { self }:
    let
      lib = import ./lib;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ] (system: import ./stub-pkgs.nix { inherit lib system; });
    };
}
