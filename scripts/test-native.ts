/**
 * `npm run test:native`: the whole test suite against native PostgreSQL + pgvector instead of
 * the embedded PGlite: scripts/install-postgres.sh gives the server (installing it the first
 * time), a fresh `matchbox_test` database on it is made for this run, and vitest's global
 * setup starts the stack on it through SUPABASE_DB_URL. Arguments are passed to vitest.
 */
import { spawn } from 'node:child_process'
import { ROOT, binary } from '../stack/paths.ts'
import { nativeServerUrl, recreateDatabase } from '../stack/native-postgres.ts'
import { redact } from '../stack/stack.ts'

const DATABASE = 'matchbox_test'

async function main(): Promise<number> {
  const serverUrl = await nativeServerUrl()
  const dbUrl = await recreateDatabase(serverUrl, DATABASE)
  console.log(`native PostgreSQL: ${redact(dbUrl)} (fresh database)`)
  const child = spawn(binary('vitest'), ['run', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, SUPABASE_DB_URL: dbUrl },
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal))
  }
  return await new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:native: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  },
)
