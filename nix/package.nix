# hms, built from this repository with nixpkgs' buildNpmPackage.
#
#   nix build .#hms                      (flake)
#   pkgs.callPackage ./nix/package.nix { }  (anything else)
#
# Dependencies come from package-lock.json through importNpmLock, so there is no
# npmDepsHash to keep in sync: each tarball is fetched on its own, pinned by the
# `integrity` hash in the lock file (see ./npm-lock.nix for the `resolved` URLs).
{
  lib,
  stdenv,
  buildNpmPackage,
  importNpmLock,
  makeWrapper,
  installShellFiles,
  cachix,
  home-manager,
}:

let
  packageJson = lib.importJSON ../package.json;

  # Only what the build reads: editing tests or docs does not rebuild the package.
  src = lib.fileset.toSource {
    root = ./..;
    fileset = lib.fileset.unions [
      ../package.json
      ../package-lock.json
      ../tsconfig.json
      ../tsup.config.ts
      ../bin
      ../src
    ];
  };

  # Programs hms runs, put last on its PATH: the user's own cachix and home-manager win, these
  # are the fallback. To bundle other ones: .override { cachix = …; home-manager = …; }
  runtimePath = lib.makeBinPath [
    cachix
    home-manager
  ];
in
buildNpmPackage {
  pname = packageJson.name;
  inherit (packageJson) version;
  inherit src;

  npmDeps = importNpmLock {
    npmRoot = src;
    packageLock = import ./npm-lock.nix { lockFile = ../package-lock.json; };
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  # `npm run build` (tsup) is buildNpmPackage's default build script; the npm
  # install hook then copies `files` (bin/, dist/) and the production
  # node_modules, and links bin/hms.js as $out/bin/hms.

  nativeBuildInputs = [
    makeWrapper
    installShellFiles
  ];

  postInstall =
    ''
      wrapProgram $out/bin/hms --suffix PATH : ${lib.escapeShellArg runtimePath}
    ''
    + lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
      # Shell completions, when this hms can print them; never a build failure.
      for shell in bash zsh fish; do
        if HOME="$TMPDIR" NO_COLOR=1 $out/bin/hms completion "$shell" > "hms.$shell" 2> /dev/null \
          && [ -s "hms.$shell" ]; then
          installShellCompletion --cmd hms "--$shell" "hms.$shell"
        fi
      done
    '';

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = "hms";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
