/**
 * A local stack that a benchmark or load test starts for itself and throws away: free ports,
 * a fresh embedded database in a temporary folder, or with `native` a freshly recreated
 * database on the native PostgreSQL of `npm run test:native`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { nativeServerUrl, recreateDatabase } from '../stack/native-postgres.ts'
import { freePort } from '../stack/ports.ts'
import { type Stack, startStack } from '../stack/stack.ts'

export interface ThrowawayStackOptions {
  /** Names the temporary folder, and the native database (`matchbox_<name>`). */
  name: string
  /** On the native PostgreSQL instead of PGlite. */
  native: boolean
  /** The stack's log lines that go to stderr: the rest would drown the figures. */
  show: RegExp
}

/**
 * Starts the stack; its `stop()` also deletes what it was given.
 *
 * @example
 * const stack = await startThrowawayStack({ name: 'soak', native: false, show: /error/i })
 * try { … } finally { await stack.stop() }
 */
export async function startThrowawayStack(options: ThrowawayStackOptions): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `matchbox-${options.name}-`))
  try {
    const stack = await startStack({
      dbUrl: options.native
        ? await recreateDatabase(await nativeServerUrl(), `matchbox_${options.name}`)
        : undefined,
      dataDir,
      apiPort: await freePort(),
      dbPort: await freePort(),
      playgroundPort: await freePort(),
      log: (line) => {
        if (options.show.test(line)) console.error(line)
      },
    })
    return {
      ...stack,
      stop: async () => {
        await stack.stop()
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true })
    throw error
  }
}
