import { defineConfig } from 'vitest/config'

/**
 * `npm run test:pooler`'s own tests (after the integration suite through PgBouncer): round
 * trips on the wire and the pooler restarted under load, on servers of their own (root).
 */
export default defineConfig({
  test: {
    include: ['test/pooler/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
