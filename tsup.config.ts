import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  clean: true,
  sourcemap: false,
  // Dependencies stay in node_modules and load lazily: start-up cost matters for a command typed dozens of times a day.
  external: ['chalk', 'commander', 'execa', 'ora', 'zod'],
})
