// Store path names for the table tests of src/diff/parse-name.ts, checked against Nix itself:
// test/unit/diff.test.ts (builtins.parseDrvName) and test/diff.test.ts (nix store diff-closures).

// Names of real nixpkgs and home-manager store paths, and odd ones, with what builtins.parseDrvName
// (Nix 2.8) answers: the version starts at the first `-` followed by anything but a letter.
export const drvNames: [string, string, string][] = [
  ['hello-2.12.1', 'hello', '2.12.1'],
  ['python3.11-requests-2.31.0', 'python3.11-requests', '2.31.0'],
  ['perl5.36.0-Test-Fatal-0.016', 'perl5.36.0-Test-Fatal', '0.016'],
  ['font-bh-100dpi-1.0.3', 'font-bh', '100dpi-1.0.3'],
  ['vim-9.0.1441', 'vim', '9.0.1441'],
  ['nix-2.8.1-man', 'nix', '2.8.1-man'],
  ['git-2.42.0-doc', 'git', '2.42.0-doc'],
  ['glibc-2.37-8-bin', 'glibc', '2.37-8-bin'],
  ['linux-6.1-modules-shrunk', 'linux', '6.1-modules-shrunk'],
  ['foo-unstable-2023-01-01', 'foo-unstable', '2023-01-01'],
  ['home-manager-path', 'home-manager-path', ''],
  ['home-manager-generation', 'home-manager-generation', ''],
  ['hm_.config-nvim-init.lua', 'hm_.config-nvim-init.lua', ''],
  ['hm-session-vars.sh', 'hm-session-vars.sh', ''],
  ['hm-pkg-ripgrep-14.1', 'hm-pkg-ripgrep', '14.1'],
  ['source', 'source', ''],
  ['a-b-c', 'a-b-c', ''],
  ['foo-_bar', 'foo', '_bar'],
  ['foo-.1', 'foo', '.1'],
  ['foo--1', 'foo', '-1'],
  ['foo-', 'foo-', ''],
  ['-1', '', '1'],
  ['foo-Ä1', 'foo', 'Ä1'],
]

// The grouping of `nix store diff-closures`: an output suffix (letters, lib32, lib64) is set apart first.
export const storeNames: [string, string, string, string][] = [
  ['nix-2.8.1-man', 'nix', '2.8.1', 'man'],
  ['git-2.42.0-doc', 'git', '2.42.0', 'doc'],
  ['openssl-3.0.12-bin', 'openssl', '3.0.12', 'bin'],
  ['zlib-1.3-dev', 'zlib', '1.3', 'dev'],
  ['gcc-12.3.0-lib', 'gcc', '12.3.0', 'lib'],
  ['foo-1.0-lib32', 'foo', '1.0', 'lib32'],
  ['util-linux-minimal-2.39.2-bin', 'util-linux-minimal', '2.39.2', 'bin'],
  ['bash-interactive-5.2-p15-man', 'bash-interactive', '5.2-p15', 'man'],
  ['linux-6.1.55-modules-shrunk', 'linux', '6.1.55-modules', 'shrunk'],
  ['home-manager-path', 'home-manager', '', 'path'],
  ['home-manager-files', 'home-manager', '', 'files'],
  ['python3.11-requests-2.31.0', 'python3.11-requests', '2.31.0', ''],
  ['hm_.config-nvim-init.lua', 'hm_.config-nvim-init.lua', '', ''],
  ['hm-session-vars.sh', 'hm-session-vars.sh', '', ''],
  ['source', 'source', '', ''],
  ['foo-1.0-Bin', 'foo', '1.0-Bin', ''],
  ['foo-1.0-lib33', 'foo', '1.0-lib33', ''],
  ['foo-', 'foo-', '', ''],
  ['-bin', '', '', 'bin'],
]
