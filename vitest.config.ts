import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Nix store; two workers match the machine's two cores.
    maxWorkers: 2,
    reporters: ['default', './test/count-reporter.ts'],
  },
})
