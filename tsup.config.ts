import { defineConfig, type Options } from 'tsup'
import type { Plugin } from 'esbuild'

/**
 * commander requires node:child_process at load time only for executable subcommands, which hms
 * does not have; loading it costs `hms --plan` ~8 ms. Inside commander it is resolved to a stand-in
 * that loads the real module on first use.
 */
const lazyChildProcess: Plugin = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'hms-lazy' } : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'hms-lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] })",
      loader: 'js',
    }))
  },
}

/**
 * Bundled CommonJS (commander) calls require() for Node's builtins, which an ES module lacks. Only the
 * chunks that name it get one: createRequire in each of the ~20 chunks `hms --plan` loads costs ~2 ms.
 */
const requireShim =
  "import { createRequire as __hmsRequire } from 'node:module'; const require = __hmsRequire(import.meta.url);"
const requireWhereNeeded: NonNullable<Options['plugins']>[number] = {
  name: 'require-where-needed',
  renderChunk(code) {
    if (!/\brequire\b/.test(code)) return
    return { code: `${requireShim}\n${code}` }
  },
}

export default defineConfig({
  entry: ['src/main.ts'],
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
  esbuildPlugins: [lazyChildProcess],
  // tsup's own rewrite of `node:` imports would resolve them before the plugin above sees them.
  removeNodeProtocol: false,
  plugins: [requireWhereNeeded],
})
