import { defineConfig } from 'vitest/config'

// Only the micro-benchmarks: `vitest bench --config bench/micro/vitest.config.ts`.
export default defineConfig({
  test: { include: [], benchmark: { include: ['bench/micro/**/*.bench.ts'] } },
})
