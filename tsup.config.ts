import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  clean: true,
  sourcemap: false,
  minify: true,
  // Bundled, execa loads in ~28 ms instead of ~107 ms and zod in ~27 ms instead of ~70 ms (bench/README.md):
  // that is start-up time before every switch. Splitting keeps each one loaded only when needed.
  noExternal: [/.*/],
  // Bundled CommonJS dependencies (cross-spawn in execa) still call require() for Node's builtins.
  banner: { js: "import { createRequire as __hmsRequire } from 'node:module'; const require = __hmsRequire(import.meta.url);" },
})
