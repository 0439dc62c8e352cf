/**
 * The functions' database access: one connection pool per process, and one transaction per
 * request that runs as the caller's role with its claims set, so that the migrations'
 * grants and row-level security decide what the request may do.
 */
import postgres from 'postgres'
import type { Caller } from './auth.ts'
import {
  isClosedSocketWrite,
  isConnectionFailure,
  translateDatabaseError,
} from './database-errors.ts'

/** A transaction as the caller: what `asCaller`'s work receives. */
export type Transaction = postgres.TransactionSql

let pool: postgres.Sql | undefined

/** The process's pool, opened on first use from `SUPABASE_DB_URL`, as Supabase provides it. */
export function database(): postgres.Sql {
  if (pool) return pool
  const url = Deno.env.get('SUPABASE_DB_URL')
  if (!url) throw new Error('SUPABASE_DB_URL is not set')
  guardAgainstClosedSocketWrites()
  pool = postgres(url, {
    max: Number(Deno.env.get('MATCHBOX_DB_POOL_SIZE') ?? 10),
    idle_timeout: 60,
    connect_timeout: 5,
    // Postgres notices (e.g. from the bootstrap's `if not exists`) are not errors.
    onnotice: () => {},
    connection: {
      application_name: 'matchbox-functions',
      // Every statement is cancelled past this (57014, answered 504): a runaway query must
      // not hold a connection and the caller for ever. Set once per connection, at no cost
      // per request. (PGlite cannot cancel a running statement; native Postgres does.)
      statement_timeout: Number(Deno.env.get('MATCHBOX_STATEMENT_TIMEOUT_MS') ?? 15_000),
    },
  })
  return pool
}

let guarded = false

/**
 * postgres.js (3.4.9, the newest) can throw outside any query when a connection's socket
 * closes just as a write to it was queued: `nextWrite` runs from a timer, finds the socket
 * gone, and the TypeError is uncaught (porsager/postgres#1154, #1208, not fixed in a release).
 * It happens when the database crashes or drops connections under load, and uncaught it
 * would end the process and every request in it. So: keep the process, and retire the pool
 * it happened in, whose connection still holds the unsent bytes and would prepend them to
 * its next startup message. Ending the pool rejects whatever still waits on it (answered 503);
 * the next request opens a new one. Any other uncaught error is left alone.
 */
function guardAgainstClosedSocketWrites(): void {
  if (guarded) return
  guarded = true
  globalThis.addEventListener('error', (event) => {
    if (!isClosedSocketWrite(event.error)) return
    event.preventDefault()
    console.error(
      'database unavailable: postgres.js wrote to a closed connection (porsager/postgres#1208); replacing the pool',
    )
    const retired = pool
    pool = undefined
    retired?.end({ timeout: 0 }).catch(() => {})
  })
}

/**
 * Runs `work` in a transaction as the caller's role, with `request.jwt.claims` set as
 * PostgREST sets it (so `auth.uid()`, `auth.role()` and `auth.jwt()` work in policies), and
 * translates the database's refusals into HTTP errors.
 */
export async function asCaller<T>(
  caller: Caller,
  work: (tx: Transaction) => Promise<T>,
): Promise<T> {
  try {
    return (await database().begin(async (tx) => {
      await tx`select set_config('role', ${caller.role}, true),
        set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`
      return await work(tx)
    })) as T
  } catch (error) {
    throw translateDatabaseError(error)
  }
}

/**
 * Runs one statement as the caller, as `asCaller` does, but sends the whole transaction at
 * once: begin, the role and claims (and `settings`, e.g. `hnsw.ef_search`, for this
 * transaction only), the statement, commit. Two round trips to the database instead of four:
 * on a busy machine each round trip costs the function and the database CPU (bench/README.md).
 *
 * The statements run in the order sent, so the statement never runs before the role is set:
 * if any fails, those after it fail too (the transaction is aborted) and the commit rolls
 * back. The first failure is the one reported.
 *
 * @example
 * await queryAsCaller(caller, (sql) => sql`select … from public.match_items(…)`, {
 *   'hnsw.ef_search': '100',
 * })
 */
export async function queryAsCaller<T>(
  caller: Caller,
  statement: (sql: postgres.ReservedSql) => Promise<T>,
  settings: Readonly<Record<string, string>> = {},
): Promise<T> {
  let sql: postgres.ReservedSql | undefined
  try {
    sql = await database().reserve()
    const names = Object.keys(settings)
    const setup = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)${names
      .map((_, i) => `, set_config($${3 + 2 * i}, $${4 + 2 * i}, true)`)
      .join('')}`
    const parameters = [
      caller.role,
      JSON.stringify(caller.claims),
      ...names.flatMap((name) => [name, settings[name]!]),
    ]
    // `begin` first, and awaited: the embedded PGlite serves every connection in one session
    // and may interleave other connections' protocol messages until this one's transaction
    // block is open (seen under load: `portal "" does not exist`). Once it is, the rest goes
    // in one round trip.
    await sql.unsafe('begin')
    const [configured, result, committed] = await Promise.allSettled([
      sql.unsafe(setup, parameters, { prepare: true }),
      statement(sql),
      sql.unsafe('commit'),
    ])
    for (const outcome of [configured, result, committed]) {
      if (outcome.status === 'rejected') {
        // An aborted transaction answers commit with a rollback; make sure it is closed.
        // Not on a connection that has failed: there is no transaction left to roll back,
        // and a write to its closed socket is what postgres.js cannot survive (above).
        if (committed.status === 'rejected' && !isConnectionFailure(committed.reason))
          await sql.unsafe('rollback').catch(() => {})
        throw outcome.reason
      }
    }
    return (result as PromiseFulfilledResult<T>).value
  } catch (error) {
    throw translateDatabaseError(error)
  } finally {
    sql?.release()
  }
}

const dimensionsCache = new Map<string, Promise<number>>()

/**
 * The dimension count of a vector column, read from the catalog once per process: the
 * database, not the TypeScript, says how long an embedding must be.
 */
export function vectorDimensions(table: string, column: string): Promise<number> {
  const key = `${table}.${column}`
  let dimensions = dimensionsCache.get(key)
  if (!dimensions) {
    dimensions = readDimensions(table, column)
    // A failed read (database down) must not be cached.
    dimensions.catch(() => dimensionsCache.delete(key))
    dimensionsCache.set(key, dimensions)
  }
  return dimensions
}

async function readDimensions(table: string, column: string): Promise<number> {
  try {
    const [row] = await database()`
      select a.atttypmod as dimensions
      from pg_catalog.pg_attribute a
      where a.attrelid = to_regclass(${table}) and a.attname = ${column} and not a.attisdropped`
    if (!row || row.dimensions < 1)
      throw new Error(`${table}.${column} is not a vector column with dimensions`)
    return row.dimensions as number
  } catch (error) {
    throw translateDatabaseError(error)
  }
}

/** Builds pgvector's text form of a vector, `[1,2,3]`, for a bound parameter. */
export function vectorLiteral(values: readonly number[]): string {
  return `[${values.join(',')}]`
}

/** Reads pgvector's text form back into numbers (it is a JSON array). */
export function parseVector(text: string): number[] {
  return JSON.parse(text) as number[]
}
