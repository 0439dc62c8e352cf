import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites with servers of their own run by their own commands (.ci/run runs them all):
    // faults crash PostgreSQL servers (`test:faults`), the pooler and replica suites start
    // PgBouncer and a standby (`test:pooler`, `test:replicas`), and the package suite packs
    // and installs the SDK (`test:package`).
    exclude: [
      'test/faults/**',
      'test/pooler/**',
      'test/replicas/**',
      'test/package/**',
      '**/node_modules/**',
    ],
    // One local stack (Postgres, the CLI, Deno) serves every integration test.
    globalSetup: ['test/support/global-setup.ts'],
    // The embedded database runs one query at a time and some tests change the schema for
    // a moment: files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
})
