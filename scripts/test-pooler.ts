/**
 * `npm run test:pooler` (as root): the integration suite with the functions behind a
 * transaction pooler, then the pooler's own tests (test/pooler: round trips on the wire, the
 * pooler restarted under load).
 *
 * A private PostgreSQL (test/support/private-postgres.ts) and a private PgBouncer in
 * `pool_mode = transaction` in front of it (test/pooler/pgbouncer.ts); the stack migrates
 * through SUPABASE_DB_URL (direct) and its functions connect to MATCHBOX_FUNCTIONS_DB_URL (the
 * pooler, `?pgbouncer=true`: no named prepared statements). Files given as arguments are run
 * instead of the whole integration suite, e.g. `npm run test:pooler -- test/integration/items-api.test.ts`.
 */
import { spawn } from 'node:child_process'
import { binary, ROOT } from '../stack/paths.ts'
import { redact } from '../stack/stack.ts'
import { startPgBouncer } from '../test/pooler/pgbouncer.ts'
import { startPrivatePostgres } from '../test/support/private-postgres.ts'

async function main(): Promise<number> {
  const server = await startPrivatePostgres()
  try {
    const bouncer = await startPgBouncer(server.url)
    try {
      console.log(`PostgreSQL ${redact(server.url)}, PgBouncer (transaction mode) ${bouncer.url}`)
      const before = await bouncer.transactions()
      // Files given on the command line replace the whole integration suite (a short run).
      const files = process.argv.slice(2)
      const suite = await vitest(['run', ...(files.length > 0 ? files : ['test/integration'])], {
        SUPABASE_DB_URL: server.url,
        MATCHBOX_FUNCTIONS_DB_URL: bouncer.url,
      })
      await new Promise((resolve) => setTimeout(resolve, 1_500)) // stats_period = 1
      const passed = (await bouncer.transactions()) - before
      console.log(`the pooler passed ${passed} transactions on during the suite`)
      if (suite !== 0) return suite
      if (passed === 0) {
        console.error('test:pooler: no transaction went through the pooler')
        return 1
      }
    } finally {
      await bouncer.destroy()
    }
  } finally {
    await server.destroy()
  }
  return await vitest(['run', '--config', 'vitest.pooler.config.ts'], {})
}

function vitest(args: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(binary('vitest'), args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGINT', forward).on('SIGTERM', forward)
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward)
      resolve(code ?? (signal ? 1 : 0))
    })
  })
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:pooler: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  },
)
