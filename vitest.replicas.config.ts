import { defineConfig } from 'vitest/config'

/** `npm run test:replicas`: a private primary and a streaming standby of it (root). */
export default defineConfig({
  test: {
    include: ['test/replicas/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
