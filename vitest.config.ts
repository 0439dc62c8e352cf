import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Faults crash servers of their own and need root: `npm run test:faults`.
    exclude: ['test/faults/**', '**/node_modules/**'],
    // One local stack (Postgres, the CLI, Deno) serves every integration test.
    globalSetup: ['test/support/global-setup.ts'],
    // The embedded database runs one query at a time and some tests change the schema for
    // a moment: files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
})
