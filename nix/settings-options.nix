# The options of `programs.hms.settings`, built from ./settings-schema.json: the JSON schema of
# hms's config file, generated from its zod schema (src/plan/schema.ts; test/nix-schema.test.ts keeps
# the two equal). Every known key is typed and documented; a key hms does not know still passes
# the type (freeformType) and is refused by ./check-settings.nix with hms's own words.
{ lib, jsonFormat }:
let
  inherit (lib) mapAttrs mkOption types;

  schema = lib.importJSON ./settings-schema.json;

  typeOf =
    s:
    if s ? enum then
      types.enum s.enum
    else if s.type == "string" then
      types.str
    else if s.type == "integer" then
      types.int
    else if s.type == "boolean" then
      types.bool
    else if s.type == "array" then
      types.listOf (typeOf s.items)
    else if s ? properties then
      types.submodule {
        freeformType = jsonFormat.type;
        options = mapAttrs (_: optionOf) s.properties;
      }
    else
      types.attrsOf (typeOf s.additionalProperties);

  # The schema's bounds, in words: the type says "signed integer", hms wants more.
  limits =
    s:
    lib.optionalString (s.type == "integer") (
      if (s.exclusiveMinimum or null) == 0 then
        " A positive integer up to 2^53 - 1 (JavaScript's safe integers)."
      else if (s.minimum or null) == 0 then
        " 0 or more, up to 2^53 - 1 (JavaScript's safe integers)."
      else
        ""
    )
    + lib.optionalString ((s.minLength or 0) > 0) " Not empty."
    + lib.optionalString ((s.items.minLength or 0) > 0) " No empty strings.";

  # Null, the default, leaves the key out of config.json: hms then applies its own default.
  optionOf =
    s:
    mkOption {
      type = types.nullOr (typeOf s);
      default = null;
      description = (s.description or "") + limits s;
    };
in
{
  inherit schema;
  type = typeOf schema;

  # The value as config.json wants it: no nulls, no `_module`.
  toJSONValue =
    let
      clean =
        v:
        if builtins.isAttrs v then
          mapAttrs (_: clean) (lib.filterAttrs (n: x: x != null && n != "_module") v)
        else if builtins.isList v then
          map clean v
        else
          v;
    in
    clean;
}
