import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // The status page's script is a bundle (dist/assets/page.js): build it before any test.
    globalSetup: ['test/setup/build-page.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Real engines and real servers: one file at a time keeps the shared engine predictable.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Property-based fuzzing: a fixed seed and bounded runs here (CI), many more with
          // `npm run fuzz` (FUZZ_SCALE, random seed unless FUZZ_SEED). See test/fuzz/settings.ts.
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          environment: 'node',
          testTimeout: process.env.FUZZ_SCALE === undefined ? 60_000 : 3_600_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
