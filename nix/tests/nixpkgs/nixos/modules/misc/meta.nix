# Stand-in for nixpkgs' nixos/modules/misc/meta.nix (with modules/generic/meta-maintainers.nix):
# `meta.maintainers` maps each module file to its maintainers, as upstream merges it; `meta.doc`
# and `meta.buildDocsInSandbox` as upstream declares them.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  perFile =
    type:
    type
    // {
      merge = _loc: defs: lib.zipAttrsWith (_: lib.concatLists) (map (def: { ${def.file} = def.value; }) defs);
    };
in
{
  options.meta = {
    maintainers = mkOption {
      type = perFile (types.listOf types.attrs);
      default = [ ];
      description = "Maintainers of each module.";
    };
    doc = mkOption {
      type = types.path // { merge = _loc: defs: defs; };
      internal = true;
      description = "Documentation prologue of a module.";
    };
    buildDocsInSandbox = mkOption {
      type = types.bool // { merge = _loc: defs: defs; };
      internal = true;
      default = true;
      description = "Whether the module's options document builds in the sandbox.";
    };
  };
}
