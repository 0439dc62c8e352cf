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

const USAGE = `usage: npm run test:native [-- vitest arguments]

Runs the test suite against native PostgreSQL + pgvector (installed by
scripts/install-postgres.sh the first time) on a fresh matchbox_test database.

  vitest arguments   passed to \`vitest run\` (e.g. test/integration/sdk.test.ts, -t <name>)
  --help             this text`

async function main(): Promise<number> {
  // Every other argument belongs to vitest, so only the help is ours.
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    console.log(USAGE)
    return 0
  }
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
