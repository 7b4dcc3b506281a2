{
  description = "hms: home-manager switch that pushes exactly what was built to your binary cache";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      # No x86_64-darwin: nixpkgs 26.11 dropped it (home-manager's flake did too).
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      module = import ./nix/module.nix { inherit self; };
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          hms = pkgs.callPackage ./nix/package.nix { };
        in
        {
          inherit hms;
          default = hms;
        }
      );

      overlays.default = final: _prev: { hms = final.callPackage ./nix/package.nix { }; };

      # `homeModules` is the name home-manager's flake-parts module uses; many flakes
      # still look for `homeManagerModules`. Both are the same module.
      homeModules = {
        default = module;
        hms = module;
      };
      homeManagerModules = self.homeModules;

      checks = forAllSystems (pkgs: {
        hms = self.packages.${pkgs.stdenv.hostPlatform.system}.hms;
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            # nixpkgs' current LTS: a pinned old major ends up marked insecure and refused.
            pkgs.nodejs
            pkgs.cachix
            pkgs.home-manager
          ];
        };
      });
    };
}
