# Stand-in for nixpkgs' default.nix. home-manager's misc/nixpkgs.nix builds its `pkgs` as
# `import pkgs.path { system; config; overlays; }`; here the package set is what the overlays make
# of an empty one, and ../hm-pkgs.nix passes itself as the only overlay.
{
  overlays ? [ ],
  ...
}:
let
  self = builtins.foldl' (prev: overlay: prev // overlay self prev) { } overlays;
in
self
