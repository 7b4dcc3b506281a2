# A small stand-in for nixpkgs' package set: enough for home-manager's full module list
# (lib.homeManagerConfiguration) to evaluate the options this repository's tests read. Packages
# are derivations that are never built; the few files a test reads (units, scripts, config.json)
# are real and buildable with /bin/sh, so their text can be checked.
{
  lib,
  # What pkgs.path is: the real nixpkgs lib/ and ./nixpkgs (home-manager imports files of both).
  nixpkgs,
  system ? "x86_64-linux",
  # Path of the hms package's output (a test can put a bin/hms there).
  hmsPath ? "/nix/store/00000000000000000000000000000000-hms-0.1.0",
}:
let
  stub =
    name:
    builtins.derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" "echo stub > $out" ];
    }
    // {
      pname = name;
      version = "0";
      meta.mainProgram = name;
    };

  # Builds with /bin/sh and /bin/mkdir only; text arrives through the environment.
  writeTextFile =
    {
      name,
      text,
      destination ? "",
      executable ? false,
      ...
    }:
    builtins.derivation {
      inherit name system text destination;
      builder = "/bin/sh";
      args = [
        "-c"
        ''
          [ -z "$destination" ] || /bin/mkdir -p "$out''${destination%/*}"
          printf '%s' "$text" > "$out$destination"
          ${lib.optionalString executable ''/bin/chmod +x "$out$destination"''}
        ''
      ];
    };

  isLinux = lib.hasSuffix "-linux" system;
  platform = lib.systems.elaborate system;

  # nixpkgs' pkgs/pkgs-lib/formats.nix json: the same value type; `generate` writes compact JSON
  # (upstream pretty-prints with jq: the same value).
  jsonType =
    with lib.types;
    let
      valueType =
        nullOr (oneOf [
          bool
          int
          float
          str
          path
          (attrsOf valueType)
          (listOf valueType)
        ])
        // {
          description = "JSON value";
        };
    in
    valueType;
  pkgs = {
  inherit lib system writeTextFile;
  path = nixpkgs;
  config = { };
  # ./nixpkgs/default.nix (pkgs.path) rebuilds this set from it, as home-manager imports it.
  overlays = [ (_: _: pkgs) ];
  stdenv = {
    hostPlatform = platform;
    buildPlatform = platform;
    inherit isLinux;
    isDarwin = !isLinux;
  };
  buildPackages = { };
  hms = {
    type = "derivation";
    name = "hms-0.1.0";
    outPath = hmsPath;
    meta.mainProgram = "hms";
  };
  # Every format home-manager's modules declare options with; only json is written by hms.
  formats =
    lib.genAttrs [ "ini" "iniWithGlobalSection" "javaProperties" "keyValue" "toml" "xml" "yaml" ] (
      name: _: {
        type = jsonType;
        lib.types.atom = jsonType;
        generate = file: value: builtins.toFile file (builtins.toJSON value);
      }
    )
    // {
      json = _: {
        type = jsonType;
        generate = name: value: builtins.toFile name (builtins.toJSON value);
      };
    };
  writeText = name: text: writeTextFile { inherit name text; };
  runCommandLocal = name: _env: _script: stub name;
  # fish's config goes through runCommand (fish_indent): keep its text, unindented.
  runCommand =
    name: env: _script:
    if env ? text then writeTextFile { inherit name; inherit (env) text; } else stub name;
  symlinkJoin = args: stub args.name;
  buildEnv = args: stub args.name;
  writeShellScript =
    name: text:
    writeTextFile {
      inherit name;
      executable = true;
      text = "#!/bin/bash\n${text}";
    };
  # The module's default package without the flake.
  callPackage = file: _: if baseNameOf file == "package.nix" then pkgs.hms else throw "callPackage ${toString file}";
}
# Packages home-manager's default-on modules read.
// lib.genAttrs [
  "bash"
  "fish"
  "home-manager"
  "systemd"
  "zsh"
  "bash-completion"
  "nix-zsh-completions"
  "bashInteractive"
  "shared-mime-info"
  "man"
  "glibcLocales"
] stub
// {
  # The service script runs readlink, cat and mkdir from here: this machine's coreutils.
  coreutils = stub "coreutils" // {
    outPath = "/usr";
  };
};
in
pkgs
