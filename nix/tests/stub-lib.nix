# A small stand-in for the parts of nixpkgs' `lib` (and home-manager's `lib.hm`)
# that ../module.nix and ../package.nix use, for test/nix.test.ts on a machine
# without nixpkgs. It is NOT the module system: `fill` gives declared options
# their definitions or defaults (checking types, rejecting unknown names) and
# `resolve` flattens mkIf/mkMerge. mkIf is only used around attribute sets.
# Submodule values get a `_module` attribute, as in the real module system.
let
  inherit (builtins)
    all
    attrNames
    attrValues
    concatStringsSep
    elem
    filter
    foldl'
    head
    isAttrs
    isBool
    isInt
    isList
    isString
    listToAttrs
    mapAttrs
    match
    substring
    stringLength
    ;

  type =
    name: check: extra:
    {
      _type = "option-type";
      inherit name check;
    }
    // extra;

  types = {
    str = type "string" isString { };
    nonEmptyStr = type "non-empty string" (v: isString v && match "[ \t\n]*" v == null) { };
    bool = type "boolean" isBool { };
    package = type "package" (v: isAttrs v && v ? outPath) { };
    ints.positive = type "positive integer" (v: isInt v && v > 0) { };
    ints.unsigned = type "unsigned integer" (v: isInt v && v >= 0) { };
    enum = values: type "one of ${concatStringsSep ", " values}" (v: elem v values) { };
    nullOr = t: type "null or ${t.name}" (v: v == null || t.check v) { nullOf = t; };
    listOf = t: type "list of ${t.name}" (v: isList v && all t.check v) { };
    attrsOf = t: type "attribute set of ${t.name}" (v: isAttrs v && all t.check (attrValues v)) { of = t; };
    submodule = m: type "submodule" isAttrs { inherit (m) options; };
  };

  isOption = v: isAttrs v && v._type or null == "option";

  # Declared options + definitions (plain values) -> the `config` the module sees.
  fill =
    path: options: defs:
    let
      unknown = filter (n: !(options ? ${n})) (attrNames defs);
    in
    if unknown != [ ] then
      throw "The option `${path}.${head unknown}' does not exist."
    else
      mapAttrs (
        n: o:
        let
          p = "${path}.${n}";
        in
        if !isOption o then
          fill p o (defs.${n} or { })
        else if defs ? ${n} then
          (if o.type.check defs.${n} then normalize p o.type defs.${n} else throw "A definition for option `${p}' is not of type `${o.type.name}'.")
        else if o ? default then
          normalize p o.type o.default
        else
          throw "The option `${p}' is used but not defined."
      ) options;

  normalize =
    p: t: v:
    if t ? options then
      # Like the real module system, whose submodule values carry `_module`
      # (with functions in it: builtins.toJSON fails on them).
      fill p t.options v // { _module = { check = true; args.extendModules = x: x; }; }
    else if t ? of then
      mapAttrs (n: normalize "${p}.${n}" t.of) v
    else if t ? nullOf && v != null then
      normalize p t.nullOf v
    else
      v;

  # Every option's path, `<name>` standing for the names of attrsOf entries.
  optionPaths =
    path: options:
    builtins.concatLists (
      map (
        n:
        let
          o = options.${n};
          p = "${path}.${n}";
          sub = o.type.options or o.type.of.options or o.type.nullOf.options or null;
          subPath = if o.type ? of then "${p}.<name>" else p;
        in
        if !isOption o then optionPaths p o else [ p ] ++ (if sub == null then [ ] else optionPaths subPath sub)
      ) (attrNames options)
    );

  resolve =
    v:
    if isAttrs v && v._type or null == "if" then
      (if v.condition then resolve v.content else { })
    else if isAttrs v && v._type or null == "merge" then
      foldl' merge { } (map resolve v.contents)
    else if isAttrs v && !(v ? outPath) then
      mapAttrs (_: resolve) v
    else
      v;

  merge =
    a: b:
    a
    // mapAttrs (
      n: bv:
      if !(a ? ${n}) then
        bv
      else if isAttrs a.${n} && isAttrs bv then
        merge a.${n} bv
      else if isList a.${n} && isList bv then
        a.${n} ++ bv
      else
        throw "conflicting definitions of `${n}'"
    ) b;

  filterAttrs = pred: set: listToAttrs (map (name: { inherit name; value = set.${name}; }) (filter (n: pred n set.${n}) (attrNames set)));
in
{
  inherit
    types
    fill
    optionPaths
    resolve
    filterAttrs
    ;
  mkOption = attrs: attrs // { _type = "option"; };
  mkEnableOption = name: {
    _type = "option";
    type = types.bool;
    default = false;
    description = "Whether to enable ${name}.";
  };
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };
  mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
  optional = cond: x: if cond then [ x ] else [ ];
  optionalString = cond: s: if cond then s else "";
  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  getExe = p: "${p}/bin/${p.meta.mainProgram}";
  makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
  escapeShellArg = s: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] s}'";
  importJSON = f: builtins.fromJSON (builtins.readFile f);
  fileset = {
    unions = files: map (f: if builtins.pathExists f then f else throw "fileset: ${toString f} does not exist") files;
    toSource = { root, fileset }: { outPath = toString root; inherit fileset; };
  };
  licenses.mit = "mit";
  platforms = {
    linux = [ "x86_64-linux" ];
    darwin = [ "aarch64-darwin" ];
  };
  hm.dag.entryAfter = after: data: {
    inherit after data;
    before = [ ];
  };
}
