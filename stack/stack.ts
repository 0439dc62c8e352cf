/**
 * The local stack, assembled: a database (embedded PGlite, or the Postgres at
 * SUPABASE_DB_URL), bootstrapped and migrated with the real Supabase CLI, the edge
 * functions on real Deno behind a gateway that checks keys as Supabase does, and the
 * playground page (playground/server/server.ts).
 *
 * `npm start` runs one on config.toml's ports; the tests run their own on free ports.
 */
import { readProjectConfig } from './config.ts'
import { type EmbeddedDb, startEmbeddedDb } from './embedded-db.ts'
import { type FunctionsServer, startFunctionsServer } from './functions-server.ts'
import { type PlaygroundServer, startPlaygroundServer } from '../playground/server/server.ts'
import { resolveKeys } from './keys.ts'
import { DEFAULT_DATA_DIR } from './paths.ts'
import { isPortTaken } from './ports.ts'
import { prepareDatabase } from './prepare.ts'

/** How to start a stack; every field has a default from config.toml and the environment. */
export interface StackOptions {
  /** Use this Postgres instead of the embedded one (default: SUPABASE_DB_URL). */
  dbUrl?: string
  /**
   * What the functions connect to, e.g. a transaction pooler in front of `dbUrl` (default:
   * MATCHBOX_FUNCTIONS_DB_URL, else the database itself). Migrations always use `dbUrl`.
   */
  functionsDbUrl?: string
  /** Read replicas of `dbUrl` for the functions' reads (default: MATCHBOX_DB_READ_URLS). */
  readUrls?: readonly string[]
  /** Where the embedded database keeps its files (default: .matchbox/db). */
  dataDir?: string
  /** Embedded database port (default: config.toml `[db] port`). */
  dbPort?: number
  /** Functions port (default: config.toml `[api] port`). */
  apiPort?: number
  /** Playground port, on 127.0.0.1 (default: config.toml `[studio] port`). */
  playgroundPort?: number
  /** Where progress and function logs go (default: console). */
  log?: (line: string) => void
}

/** A running stack: what `npm run status` prints, and a way to stop it. */
export interface Stack {
  apiUrl: string
  dbUrl: string
  /** What the functions connect to: `dbUrl`, or a pooler in front of it. */
  functionsDbUrl: string
  /** The read replicas the functions' reads go to (none: all go to `functionsDbUrl`). */
  readUrls: readonly string[]
  anonKey: string
  serviceRoleKey: string
  /** The playground page, a local development tool like Studio. */
  playgroundUrl: string
  /** Whether the database is the embedded one (false when SUPABASE_DB_URL is used). */
  embedded: boolean
  /** The Deno process serving the functions now, and how often it has been restarted. */
  functions: Pick<FunctionsServer, 'process' | 'restarts'>
  stop(): Promise<void>
}

/** A refusal worth one line to the user, not a stack trace. */
export class StackError extends Error {
  override name = 'StackError'
}

/** Starts the database, applies the migrations, and serves the functions. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const config = readProjectConfig()
  const log = options.log ?? ((line: string) => console.log(line))
  const apiPort = options.apiPort ?? config.apiPort
  const playgroundPort = options.playgroundPort ?? config.playgroundPort
  const externalUrl = options.dbUrl ?? (process.env.SUPABASE_DB_URL || undefined)
  const keys = await resolveKeys()

  await assertPortFree(apiPort, 'API', '[api] port')
  await assertPortFree(playgroundPort, 'playground', '[studio] port')
  let embedded: EmbeddedDb | undefined
  let functions: FunctionsServer | undefined
  let playground: PlaygroundServer | undefined
  try {
    let dbUrl: string
    if (externalUrl) {
      dbUrl = externalUrl
    } else {
      const dbPort = options.dbPort ?? config.dbPort
      await assertPortFree(dbPort, 'database', '[db] port')
      embedded = await startEmbeddedDb({
        dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
        port: dbPort,
      })
      dbUrl = embedded.url
    }
    log(`database ready at ${redact(dbUrl)}${embedded ? ' (embedded PGlite + pgvector)' : ''}`)
    const push = await prepareDatabase(dbUrl)
    log(summarizePush(push.stdout + push.stderr))
    // The environment's pooler and replicas stand in front of SUPABASE_DB_URL's server: with
    // the embedded database they do not apply (a test that blanks SUPABASE_DB_URL, say).
    const env = embedded ? {} : process.env
    const functionsDbUrl =
      options.functionsDbUrl ?? (env.MATCHBOX_FUNCTIONS_DB_URL || undefined) ?? dbUrl
    const readUrls = options.readUrls ?? splitUrls(env.MATCHBOX_DB_READ_URLS)
    if (embedded && (functionsDbUrl !== dbUrl || readUrls.length > 0)) {
      throw new StackError(
        'a pooler or read replicas need SUPABASE_DB_URL: they stand in front of a PostgreSQL server, not the embedded database',
      )
    }
    if (functionsDbUrl !== dbUrl) log(`functions connect through ${redact(functionsDbUrl)}`)
    if (readUrls.length > 0) log(`reads go to ${readUrls.map(redact).join(', ')}`)

    const apiUrl = `http://127.0.0.1:${apiPort}`
    functions = await startFunctionsServer({
      port: apiPort,
      functions: config.functions,
      jwtSecret: keys.jwtSecret,
      log,
      env: {
        SUPABASE_URL: apiUrl,
        SUPABASE_ANON_KEY: keys.anonKey,
        SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
        SUPABASE_DB_URL: dbUrl,
        MATCHBOX_FUNCTIONS_DB_URL: functionsDbUrl,
        MATCHBOX_DB_READ_URLS: readUrls.join(','),
        // Tells db.ts to await `begin` before the rest of a transaction (db.ts says why).
        MATCHBOX_DB_EMBEDDED: embedded ? '1' : '',
        // PGlite serves every connection in one session and can interleave two connections'
        // protocol messages outside a transaction (seen under load: `portal "" does not
        // exist`); it runs one statement at a time anyway, so one connection costs nothing.
        MATCHBOX_DB_POOL_SIZE: process.env.MATCHBOX_DB_POOL_SIZE ?? (embedded ? '1' : '10'),
      },
    })
    playground = await startPlaygroundServer({
      port: playgroundPort,
      apiUrl,
      dbUrl,
      anonKey: keys.anonKey,
      serviceRoleKey: keys.serviceRoleKey,
      log,
    })
    const running = functions
    const page = playground
    const db = embedded
    let stopped: Promise<void> | undefined
    return {
      apiUrl,
      dbUrl,
      functionsDbUrl,
      readUrls,
      anonKey: keys.anonKey,
      serviceRoleKey: keys.serviceRoleKey,
      playgroundUrl: page.url,
      embedded: Boolean(embedded),
      functions: running,
      stop() {
        stopped ??= (async () => {
          await page.stop()
          await running.stop()
          await db?.stop()
        })()
        return stopped
      },
    }
  } catch (error) {
    await playground?.stop()
    await functions?.stop()
    await embedded?.stop()
    throw error
  }
}

async function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  if (await isPortTaken(port)) {
    throw new StackError(
      `port ${port} (${what}) is already in use: stop whatever holds it (another \`npm start\` or \`supabase start\`?) or change ${setting} in supabase/config.toml`,
    )
  }
}

function summarizePush(output: string): string {
  const applied = output.match(/Applying migration \S+/g) ?? []
  if (applied.length === 0) return 'migrations: database is up to date'
  return `migrations: ${applied.map((line) => line.replace('Applying migration ', '')).join(', ')} applied`
}

/** A comma-separated list of URLs, without blanks. */
function splitUrls(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
}

/** A database URL with its password hidden, for logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
