import { defineConfig } from 'vitest/config'

// `npm run test:package`: the package as a user installs it (npm pack, a scratch project, the
// bin's init), on the test stack. Slow (a build, an install, tsc twice), so a run of its own.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
})
