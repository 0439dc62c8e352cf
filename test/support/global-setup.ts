/**
 * Starts one local stack for the whole run, on free ports with a throwaway embedded
 * database (or SUPABASE_DB_URL's Postgres), and hands its URLs and keys to the tests.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort } from '../../stack/ports.ts'
import { startStack } from '../../stack/stack.ts'
import type { StackInfo } from './stack-info.ts'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-test-'))
  const logs: string[] = []
  const stack = await startStack({
    dataDir,
    apiPort: await freePort(),
    dbPort: await freePort(),
    playgroundPort: await freePort(),
    log: (line) => logs.push(line),
  })
  const info: StackInfo = {
    apiUrl: stack.apiUrl,
    dbUrl: stack.dbUrl,
    anonKey: stack.anonKey,
    serviceRoleKey: stack.serviceRoleKey,
    playgroundUrl: stack.playgroundUrl,
    embedded: stack.embedded,
    functionsPid: stack.functions.process.pid,
    databasePid: stack.embedded ? process.pid : undefined,
  }
  project.provide('stack', info)
  return async () => {
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
    if (process.env.MATCHBOX_TEST_LOGS) {
      console.log(logs.join('\n'))
    } else if (logs.some(isUnexpectedError)) {
      // A 500 in a test is easier to explain with the server's side of it.
      console.log(`functions logged unhandled errors:\n${logs.join('\n')}`)
    }
  }
}

/**
 * The 500 that items-api.test.ts causes on purpose (it renames public.items for a moment);
 * any other unhandled error in the functions gets their log printed.
 */
const INTENDED_ERRORS = ['relation "public.items" does not exist']

function isUnexpectedError(line: string): boolean {
  return (
    line.includes('unhandled error') && !INTENDED_ERRORS.some((intended) => line.includes(intended))
  )
}
