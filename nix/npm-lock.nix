# package-lock.json with a `resolved` URL for every registry package.
#
# npm leaves `resolved` out of the lock file when `omit-lockfile-registry-resolved`
# is set (it is, where this repository's lock file was written), and importNpmLock
# can only pre-fetch packages whose lock entry says where they come from: without
# it, `npm ci` would try the network inside the build sandbox and fail. Every such
# entry still has its `integrity` hash, so the tarball URL of the public registry
# is added here and the download stays fixed by that hash.
#
# Plain builtins only, so that test/nix.test.ts can evaluate it without nixpkgs.
{
  lockFile,
  registry ? "https://registry.npmjs.org",
}:
let
  lock = builtins.fromJSON (builtins.readFile lockFile);
  last = list: builtins.elemAt list (builtins.length list - 1);
  # "node_modules/a/node_modules/@s/b" -> "@s/b"; an entry installed under another
  # name (an npm alias) records the real one in `name`.
  packageName =
    key: entry:
    entry.name or (last (builtins.filter builtins.isString (builtins.split "node_modules/" key)));
  withResolved =
    key: entry:
    if
      key == ""
      || entry ? resolved
      || entry.link or false
      || entry.inBundle or false
      || !(entry ? version && entry ? integrity)
    then
      entry
    else
      let
        name = packageName key entry;
        baseName = last (builtins.filter builtins.isString (builtins.split "/" name));
      in
      entry // { resolved = "${registry}/${name}/-/${baseName}-${entry.version}.tgz"; };
in
lock // { packages = builtins.mapAttrs withResolved lock.packages; }
