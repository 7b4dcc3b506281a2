# Store URLs as hms judges them when it reads config.json: the Nix side of src/plan/store-url.ts
# (`storeUrlProblem`, `withoutCredentials`), compared with it by test/nix-schema.test.ts.
let
  inherit (builtins)
    elemAt
    match
    substring
    ;

  # Schemes are case-insensitive: `FILE://` is file://.
  lower = builtins.replaceStrings (builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26) (
    builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26
  );

  # `scheme://[userinfo@]host[:port][/path][?query]` taken apart as urlParts does, or null.
  parts =
    url:
    let
      m = match "([A-Za-z][A-Za-z0-9+.-]*)://(.*)" url;
      after = elemAt m 1;
      split = match "([^/?#]*)(.*)" after;
      authority = elemAt split 0;
      tail = elemAt split 1;
      # Greedy: the last `@` of the authority.
      user = match "(.*)@([^@]*)" authority;
      hostPort = if user == null then authority else elemAt user 1;
      ipv6 = match "(\\[[^]]*]).*" hostPort;
      port = match "(.*):[0-9]*" hostPort;
    in
    if m == null then
      null
    else
      {
        written = elemAt m 0;
        scheme = lower (elemAt m 0);
        userinfo = if user == null then null else elemAt user 0;
        inherit hostPort tail;
        host =
          if substring 0 1 hostPort == "[" then
            (if ipv6 == null then "" else elemAt ipv6 0)
          else if port == null then
            hostPort
          else
            elemAt port 0;
      };

  # One path segment character as Nix 2.8's URL parser takes it (`%XX` kept literally by file://).
  nixPath = "([-A-Za-z0-9._~!$&'\"()*+,;=:@/]|%[0-9A-Fa-f][0-9A-Fa-f])*";
in
{
  # Why Nix could never push to `url` (src/plan/store-url.ts storeUrlProblem's message), or null.
  problem =
    url:
    let
      p = parts url;
      path = substring 7 (-1) url;
      dir = elemAt (match "([^?#]*).*" path) 0;
    in
    if p == null then
      "is not a store URL"
    else if match "[!-~]*" url == null then
      "contains a space or a character Nix does not accept in a URL"
    else if p.scheme == "file" then
      (
        if substring 0 1 path != "/" then
          "is not an absolute file:// URL"
        else if match "/+" dir != null then
          "names the root directory"
        else if match nixPath dir == null then
          "has a path Nix does not accept"
        else
          null
      )
    else if p.host == "" then
      "has no ${if p.scheme == "s3" then "bucket" else "host"}"
    else
      null;

  # The URL without the secret part of its credentials (src/plan/store-url.ts withoutCredentials).
  withoutCredentials =
    url:
    let
      p = parts url;
      prefix = "${p.written}://";
      rest = p.hostPort + p.tail;
      user = elemAt (match "([^:]*).*" p.userinfo) 0;
    in
    if p == null || p.userinfo == null then
      url
    else if p.scheme == "ssh" || p.scheme == "ssh-ng" then
      (if user != "" then "${prefix}${user}@${rest}" else prefix + rest)
    else
      prefix + rest;
}
