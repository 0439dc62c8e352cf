/**
 * `npm start`: the local stack on config.toml's ports, until Ctrl-C.
 *
 * Embedded PGlite + pgvector by default (files in .matchbox/db), or the Postgres at
 * SUPABASE_DB_URL; migrations pushed with the real Supabase CLI; functions on real Deno,
 * connected to MATCHBOX_FUNCTIONS_DB_URL if set (a transaction pooler, say), with reads on
 * MATCHBOX_DB_READ_URLS if set (docs/scaling.md).
 */
import { parseOrExit } from '../cli/args.ts'
import { redact, StackError, startStack } from '../stack/stack.ts'
import { clearState, readLiveState, writeState } from '../stack/state.ts'

const USAGE = `usage: npm start

Runs the local stack (database, edge functions, playground) on config.toml's ports until Ctrl-C:
embedded PGlite + pgvector in .matchbox/db, or the Postgres at SUPABASE_DB_URL.

  --help    this text

Environment: SUPABASE_DB_URL, MATCHBOX_FUNCTIONS_DB_URL and MATCHBOX_DB_READ_URLS (docs/scaling.md),
MATCHBOX_API_PORT, MATCHBOX_DB_PORT, MATCHBOX_PLAYGROUND_PORT, MATCHBOX_DATA_DIR.`

async function main(): Promise<void> {
  parseOrExit('npm start', process.argv.slice(2), { usage: USAGE, options: {} })
  const running = readLiveState()
  if (running) {
    fail(
      `Matchbox is already running (pid ${running.pid}) at ${running.API_URL}: stop it with Ctrl-C in its terminal first`,
    )
  }
  console.log('starting Matchbox…')
  const stack = await startStack({
    apiPort: portFromEnv('MATCHBOX_API_PORT'),
    dbPort: portFromEnv('MATCHBOX_DB_PORT'),
    playgroundPort: portFromEnv('MATCHBOX_PLAYGROUND_PORT'),
    dataDir: process.env.MATCHBOX_DATA_DIR || undefined,
  })
  writeState({
    API_URL: stack.apiUrl,
    DB_URL: stack.dbUrl,
    ANON_KEY: stack.anonKey,
    SERVICE_ROLE_KEY: stack.serviceRoleKey,
    PLAYGROUND_URL: stack.playgroundUrl,
  })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: stopping Matchbox…`)
    await stack.stop()
    clearState()
    console.log('stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))

  console.log(`
Matchbox is running.

         API URL: ${stack.apiUrl}
   Functions URL: ${stack.apiUrl}/functions/v1
          DB URL: ${stack.dbUrl}${stack.embedded ? '' : ' (SUPABASE_DB_URL)'}${
            stack.functionsDbUrl === stack.dbUrl
              ? ''
              : `\n    Functions DB: ${redact(stack.functionsDbUrl)} (MATCHBOX_FUNCTIONS_DB_URL)`
          }${stack.readUrls.length ? `\n   Read replicas: ${stack.readUrls.map(redact).join(', ')}` : ''}
  Playground URL: ${stack.playgroundUrl}
        anon key: ${stack.anonKey}
service_role key: ${stack.serviceRoleKey}

Try \`npm run demo\` in another shell, then open the playground; Ctrl-C stops everything.`)
}

/** A port from the environment, overriding config.toml (for a second stack beside the first). */
function portFromEnv(name: string): number | undefined {
  const value = process.env[name]
  if (!value) return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(`${name} must be a port number, not ${value}`)
  return port
}

function fail(message: string): never {
  console.error(`npm start: ${message}`)
  process.exit(1)
}

main().catch((error: unknown) => {
  if (error instanceof StackError) fail(error.message)
  console.error('npm start failed:', error instanceof Error ? error.message : error)
  process.exit(1)
})
