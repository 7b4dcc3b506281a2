# Why a push.exclude pattern is not a JavaScript regular expression, or null when it is one.
#
# hms compiles each pattern with `new RegExp(pattern)` (no flags: ECMAScript's Annex B syntax,
# as V8 parses it). Nix cannot ask V8, and builtins.match (POSIX ERE) both judges differently
# ("(?:x)", "\d" are fine in JavaScript) and aborts evaluation on a bad pattern instead of
# returning, so this file scans the pattern itself. It takes printable ASCII only: the schema
# refuses anything else before this runs. test/nix-schema.test.ts compares it with Node's RegExp on
# a table of edge cases and on thousands of generated patterns.
#
# Stricter than V8 on purpose (rejected here, accepted by some Node versions; never the other way):
# escapes in group names ("(?<\u0061>.)"), and, refused by Node 20 but taken by newer V8, modifier
# groups ("(?i:a)") and the same group name in two alternatives ("(?<a>x)|(?<a>y)").
pattern:
let
  inherit (builtins)
    elem
    elemAt
    genList
    listToAttrs
    stringLength
    substring
    ;

  n = stringLength pattern;
  at = i: if i < n then substring i 1 pattern else "";

  printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
  codes = listToAttrs (
    genList (i: {
      name = substring i 1 printable;
      value = i + 32;
    }) (stringLength printable)
  );
  code = c: codes.${c};

  hexDigits = listToAttrs (
    genList (i: {
      name = substring i 1 "0123456789abcdef";
      value = i;
    }) 16
  );
  lower = { A = "a"; B = "b"; C = "c"; D = "d"; E = "e"; F = "f"; };
  hexOf = c: hexDigits.${lower.${c} or c} or null;
  # The value of `count` hex digits from i, or null when they are not all hex.
  hexAt =
    i: count:
    if count == 0 then
      0
    else
      let
        d = hexOf (at i);
        rest = hexAt (i + 1) (count - 1);
      in
      if d == null || rest == null then null else d * pow16 (count - 1) + rest;
  pow16 = k: if k == 0 then 1 else 16 * pow16 (k - 1);

  isDigit = c: c != "" && builtins.match "[0-9]" c != null;
  isOctal = c: c != "" && builtins.match "[0-7]" c != null;
  isLetter = c: c != "" && builtins.match "[A-Za-z]" c != null;
  isIdStart = c: c != "" && builtins.match "[A-Za-z$_]" c != null;
  isIdPart = c: c != "" && builtins.match "[A-Za-z0-9$_]" c != null;

  # A group name ending with `>` from i: { name, next } or null.
  nameAt =
    i:
    let
      go = j: if isIdPart (at j) then go (j + 1) else j;
      end = go (i + 1);
    in
    if isIdStart (at i) && at end == ">" then
      {
        name = substring i (end - i) pattern;
        next = end + 1;
      }
    else
      null;

  # V8 decides up front whether the pattern has named groups: only then is `\k` a reference.
  hasNamedGroups =
    let
      scan =
        i: inClass:
        if i >= n then
          false
        else
          let
            c = at i;
          in
          if c == "\\" then
            scan (i + 2) inClass
          else if inClass then
            scan (i + 1) (c != "]")
          else if c == "[" then
            scan (i + 1) true
          else if c == "(" && at (i + 1) == "?" && at (i + 2) == "<" && !(elem (at (i + 3)) [ "=" "!" ]) then
            true
          else
            scan (i + 1) false;
    in
    scan 0 false;

  # An octal escape's value from i (the first digit), as V8 reads it: { value, next }.
  octalAt =
    i:
    let
      d1 = code (at i) - 48;
      two = d1 * 8 + code (at (i + 1)) - 48;
    in
    if !isOctal (at (i + 1)) then
      { value = d1; next = i + 1; }
    else if two < 32 && isOctal (at (i + 2)) then
      { value = two * 8 + code (at (i + 2)) - 48; next = i + 3; }
    else
      { value = two; next = i + 2; };

  controlEscapes = { b = 8; f = 12; n = 10; r = 13; t = 9; v = 11; };

  # One atom of a character class from i (not `]`): { value, next }, value null for \d \s \w and
  # their negations, or { error }.
  classAtom =
    i:
    let
      c = at i;
      d = at (i + 1);
    in
    if c != "\\" then
      { value = code c; next = i + 1; }
    else if d == "" then
      { error = "\\ at end of pattern"; }
    else if elem d [ "d" "D" "s" "S" "w" "W" ] then
      { value = null; next = i + 2; }
    else if controlEscapes ? ${d} then
      { value = controlEscapes.${d}; next = i + 2; }
    else if d == "c" then
      (
        if isLetter (at (i + 2)) || isDigit (at (i + 2)) || at (i + 2) == "_" then
          { value = builtins.bitAnd (code (at (i + 2))) 31; next = i + 3; }
        else
          { value = code "\\"; next = i + 1; }
      )
    else if d == "x" && hexAt (i + 2) 2 != null then
      { value = hexAt (i + 2) 2; next = i + 4; }
    else if d == "u" && hexAt (i + 2) 4 != null then
      { value = hexAt (i + 2) 4; next = i + 6; }
    else if isOctal d then
      octalAt (i + 1)
    else
      { value = code d; next = i + 2; };

  # A character class from i (just after `[`): { next } or { error }.
  classFrom =
    start:
    let
      go =
        i:
        if i >= n then
          { error = "Unterminated character class"; }
        else if at i == "]" then
          { next = i + 1; }
        else
          let
            a = classAtom i;
            dash = a.next or 0;
            b = classAtom (dash + 1);
          in
          if a ? error then
            a
          else if at dash == "-" && dash + 1 < n && at (dash + 1) != "]" then
            (
              if b ? error then
                b
              else if a.value != null && b.value != null && a.value > b.value then
                { error = "Range out of order in character class"; }
              else
                go b.next
            )
          else
            go a.next;
    in
    go (if at start == "^" then start + 1 else start);

  # `{n}`, `{n,}` or `{n,m}` from i: { next, ordered } or null (then `{` is a literal).
  braceAt =
    i:
    let
      m = builtins.match "\\{([0-9]+)(,([0-9]*))?}.*" (substring i n pattern);
      lo = elemAt m 0;
      hi = elemAt m 2;
      lenOf = s: stringLength (stripZeros s);
      stripZeros = s: if stringLength s > 1 && substring 0 1 s == "0" then stripZeros (substring 1 (-1) s) else s;
      # Numbers as digit strings: V8 clamps huge ones, so compare without converting.
      lessOrEqual =
        a: b:
        let
          a' = stripZeros a;
          b' = stripZeros b;
        in
        lenOf a < lenOf b || (lenOf a == lenOf b && a' <= b');
      text = if m == null then "" else "{" + lo + (if elemAt m 1 == null then "" else "," + hi) + "}";
    in
    if m == null then
      null
    else
      {
        next = i + stringLength text;
        ordered = hi == null || hi == "" || lessOrEqual lo hi;
      };

  # The main scan. `last`: what a quantifier would apply to: "atom", "none" (start, `|`, `(`),
  # "assertion" (^ $ \b \B) or "lookbehind" (a closed lookbehind group).
  go =
    i: st:
    let
      c = at i;
      d = at (i + 1);
      next = j: changes: go j (st // changes);
      atom = j: next j { last = "atom"; };
      quantify =
        j:
        if st.last == "atom" then
          next (if at j == "?" then j + 1 else j) { last = "quantified"; }
        else if st.last == "lookbehind" then
          "Invalid quantifier"
        else
          "Nothing to repeat";
    in
    if i >= n then
      (
        if st.groups != [ ] then
          "Unterminated group"
        else if builtins.any (r: !(elem r st.names)) st.refs then
          "Invalid named capture referenced"
        else
          null
      )
    else if c == "\\" then
      (
        if d == "" then
          "\\ at end of pattern"
        else if d == "b" || d == "B" then
          next (i + 2) { last = "assertion"; }
        else if d == "k" && hasNamedGroups then
          (
            let
              ref = nameAt (i + 3);
            in
            if at (i + 2) != "<" || ref == null then
              "Invalid named reference"
            else
              next ref.next {
                last = "atom";
                refs = st.refs ++ [ ref.name ];
              }
          )
        else if d == "x" && hexAt (i + 2) 2 != null then
          atom (i + 4)
        else if d == "u" && hexAt (i + 2) 4 != null then
          atom (i + 6)
        else
          atom (i + 2)
      )
    else if c == "^" || c == "$" then
      next (i + 1) { last = "assertion"; }
    else if c == "|" then
      next (i + 1) { last = "none"; }
    else if c == "(" then
      (
        let
          open = kind: j: next j {
            last = "none";
            groups = [ kind ] ++ st.groups;
          };
          named = nameAt (i + 3);
        in
        if d != "?" then
          open "group" (i + 1)
        else if at (i + 2) == ":" then
          open "group" (i + 3)
        else if at (i + 2) == "=" || at (i + 2) == "!" then
          open "lookahead" (i + 3)
        else if at (i + 2) == "<" && (at (i + 3) == "=" || at (i + 3) == "!") then
          open "lookbehind" (i + 4)
        else if at (i + 2) != "<" then
          "Invalid group"
        else if named == null then
          "Invalid capture group name"
        else if elem named.name st.names then
          "Duplicate capture group name"
        else
          go named.next (
            st
            // {
              last = "none";
              groups = [ "group" ] ++ st.groups;
              names = st.names ++ [ named.name ];
            }
          )
      )
    else if c == ")" then
      (
        if st.groups == [ ] then
          "Unmatched ')'"
        else
          next (i + 1) {
            # Annex B lets a lookahead be quantified, never a lookbehind.
            last = if builtins.head st.groups == "lookbehind" then "lookbehind" else "atom";
            groups = builtins.tail st.groups;
          }
      )
    else if c == "[" then
      (
        let
          class = classFrom (i + 1);
        in
        if class ? error then class.error else atom class.next
      )
    else if c == "*" || c == "+" || c == "?" then
      quantify (i + 1)
    else if c == "{" && braceAt i != null then
      (if (braceAt i).ordered then quantify (braceAt i).next else "numbers out of order in {} quantifier")
    else
      atom (i + 1);
in
go 0 {
  last = "none";
  groups = [ ];
  names = [ ];
  refs = [ ];
}
