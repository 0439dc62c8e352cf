import { defineConfig } from 'vitest/config'

/** `npm run test:faults`: crash and restart servers of the tests' own (root, native Postgres). */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
})
