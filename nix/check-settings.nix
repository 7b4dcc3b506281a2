# What hms would refuse in a config.json value, in hms's words, as `hms` prints them after
# "invalid config <file>:": first the schema (src/plan/config.ts describeIssue, with zod's messages,
# driven by ./settings-schema.json), then, when the schema is satisfied, every store URL
# (src/plan/config.ts checkUrls, ./store-url.nix). test/nix-schema.test.ts runs this and hms on the
# same values and requires the same messages.
#
#   problems :: value -> [ string ]
#   urls :: value -> [ { at, url } ]   (the store URLs of the file, as checkUrls lists them)
{ lib }:
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    elem
    isAttrs
    isBool
    isFloat
    isInt
    isList
    isString
    stringLength
    ;

  schema = lib.importJSON ./settings-schema.json;
  jsRegexProblem = import ./js-regex.nix;
  storeUrl = import ./store-url.nix;

  maxSafe = 9007199254740991;

  at = path: message: [ "${if path == [ ] then "top level" else concatStringsSep "." (map toString path)}: ${message}" ];

  received =
    v:
    if isString v then "string"
    else if isInt v || isFloat v then "number"
    else if isBool v then "boolean"
    else if isList v then "array"
    else if v == null then "null"
    else "object";
  expected = s: if s.type == "integer" then "number" else if s.type == "array" then "array" else s.type;
  typeError = path: s: v: at path "Invalid input: expected ${expected s}, received ${received v}";

  isType =
    s: v:
    {
      string = isString v;
      integer = isInt v || isFloat v;
      boolean = isBool v;
      array = isList v;
      object = isAttrs v;
    }
    .${s.type};

  checkString =
    path: s: v:
    if s ? enum && !(elem v s.enum) then
      at path "Invalid option: expected one of ${concatStringsSep "|" (map (e: ''"${e}"'') s.enum)}"
    else if stringLength v < (s.minLength or 0) then
      at path "Too small: expected string to have >=${toString s.minLength} characters"
    else if (s.format or "") == "regex" then
      (
        if builtins.match "[ -~]*" v == null then
          at path "use printable ASCII (write other characters as \\uXXXX)"
        else if jsRegexProblem v != null then
          at path "not a valid regular expression"
        else
          [ ]
      )
    else
      [ ];

  # zod's int(): a safe integer first, then the schema's bounds (all failures are reported).
  checkInteger =
    path: s: v:
    if !(isInt v) then
      at path "Invalid input: expected int, received number"
    else
      concatLists [
        (if v < -maxSafe then at path "Too small: expected int to be >=-${toString maxSafe}" else [ ])
        (if s ? exclusiveMinimum && v <= s.exclusiveMinimum then at path "Too small: expected number to be >${toString s.exclusiveMinimum}" else [ ])
        (if s ? minimum && v < s.minimum then at path "Too small: expected number to be >=${toString s.minimum}" else [ ])
        (if v > (s.maximum or maxSafe) then at path "Too big: expected int to be <=${toString (s.maximum or maxSafe)}" else [ ])
      ];

  checkObject =
    path: s: v:
    let
      unknown = builtins.filter (k: !(s.properties ? ${k})) (attrNames v);
      where = if path == [ ] then "" else concatStringsSep "." (map toString path) + ".";
    in
    concatLists (
      map (
        k:
        if v ? ${k} then
          check (path ++ [ k ]) s.properties.${k} v.${k}
        else if elem k (s.required or [ ]) then
          at (path ++ [ k ]) "Invalid input: expected ${expected s.properties.${k}}, received undefined"
        else
          [ ]
      ) (attrNames s.properties)
    )
    ++ map (k: ''unknown key "${where}${k}"'') unknown;

  checkRecord =
    path: s: v:
    concatLists (
      map (
        k:
        if stringLength k < (s.propertyNames.minLength or 0) then
          at (path ++ [ k ]) "Invalid key in record"
        else
          check (path ++ [ k ]) s.additionalProperties v.${k}
      ) (attrNames v)
    );

  check =
    path: s: v:
    if !(isType s v) then
      typeError path s v
    else if s.type == "string" then
      checkString path s v
    else if s.type == "integer" then
      checkInteger path s v
    else if s.type == "array" then
      concatLists (lib.imap0 (i: x: check (path ++ [ i ]) s.items x) v)
    else if s.type == "object" && s ? properties then
      checkObject path s v
    else if s.type == "object" then
      checkRecord path s v
    else
      [ ];
  # Cache references that are URLs (a plain name is a Cachix cache or a `caches` entry).
  urls =
    v:
    builtins.filter (r: lib.hasInfix "://" r.url) (
      lib.mapAttrsToList (name: c: { at = "caches.${name}.url"; url = c.url; }) (v.caches or { })
      ++ lib.optional (v ? cache) { at = "cache"; url = v.cache; }
      ++ lib.concatLists (
        lib.mapAttrsToList (name: p: lib.optional (p ? cache) { at = "profiles.${name}.cache"; url = p.cache; }) (
          v.profiles or { }
        )
      )
    );

  urlProblems =
    v:
    concatLists (
      map (
        r:
        let
          problem = storeUrl.problem r.url;
        in
        if problem == null then [ ] else [ ''${r.at} "${storeUrl.withoutCredentials r.url}" ${problem}'' ]
      ) (urls v)
    );
in
{
  inherit urls;
  problems =
    v:
    let
      schemaProblems = check [ ] schema v;
    in
    if schemaProblems != [ ] then schemaProblems else urlProblems v;
}
