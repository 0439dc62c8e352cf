/**
 * The functions' connection pool: one per process, opened on first use from
 * `SUPABASE_DB_URL` as Supabase provides it, and replaced when postgres.js leaves one of its
 * connections unusable after the database dropped it.
 *
 * postgres.js 3.4.9 (the newest release) mishandles a connection whose socket closes while a
 * small write to it is queued on a timer (porsager/postgres#1154, #1208):
 * - if the timer runs, `nextWrite` finds no socket and throws outside any query: uncaught, that
 *   would end this process and every request in it;
 * - if the close cancels the timer first, the connection keeps the cancelled timer as if it
 *   were pending and never flushes a write again: each reconnection waits for its startup
 *   message to go out until `connect_timeout`, and fails `CONNECT_TIMEOUT`.
 * Both happen when the database crashes or terminates connections. The cure for both is a new
 * pool: the old one is ended with a grace period, so that requests it is serving finish (a
 * commit in flight is not cut), and the next request opens a fresh one.
 */
import postgres from 'postgres'
import { errorCode, isClosedSocketWrite, translateDatabaseError } from './database-errors.ts'

/** Seconds a retired pool's requests have to finish before its connections are cut. */
const RETIRE_GRACE_SECONDS = 5
/** A pool younger than this is not replaced for a connect timeout: its connections are new. */
const MIN_POOL_AGE_MS = 5_000

let pool: postgres.Sql | undefined
let openedAt = 0
/** The pool a connection closed in most recently: where a failed write comes from. */
let lastClosedIn: postgres.Sql | undefined

/** The process's pool. */
export function database(): postgres.Sql {
  if (pool) return pool
  const url = Deno.env.get('SUPABASE_DB_URL')
  if (!url) throw new Error('SUPABASE_DB_URL is not set')
  guardAgainstClosedSocketWrites()
  const opened: postgres.Sql = postgres(url, {
    max: Number(Deno.env.get('MATCHBOX_DB_POOL_SIZE') ?? 10),
    idle_timeout: 60,
    connect_timeout: 5,
    // postgres.js waits longer and longer between reconnections while the database is down,
    // up to 20 s by default: that long after it is back, requests would still wait. Capped at
    // a second, the functions serve again within a second of the database.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // No rotation by age (postgres.js's default closes each connection after 30 to 60 min):
    // a connection closing while a request waits to reserve one loses that request
    // (porsager/postgres#1195), and Postgres has no use for the rotation.
    max_lifetime: null,
    // Postgres notices (e.g. from the bootstrap's `if not exists`) are not errors.
    onnotice: () => {},
    onclose: () => {
      lastClosedIn = opened
    },
    connection: {
      application_name: 'matchbox-functions',
      // Every statement is cancelled past this (57014, answered 504): a runaway query must
      // not hold a connection and the caller for ever. Set once per connection, at no cost
      // per request. (PGlite cannot cancel a running statement; native Postgres does.)
      statement_timeout: statementTimeoutMs(),
    },
  })
  pool = opened
  openedAt = Date.now()
  return opened
}

/**
 * Milliseconds after which the database cancels a statement: `MATCHBOX_STATEMENT_TIMEOUT_MS`
 * (0 for none, as Postgres reads it), 15 s if unset.
 *
 * @throws Error when the setting is not a whole number of milliseconds.
 */
export function statementTimeoutMs(): number {
  statementTimeout ??= readStatementTimeout()
  return statementTimeout
}

let statementTimeout: number | undefined

function readStatementTimeout(): number {
  const setting = Deno.env.get('MATCHBOX_STATEMENT_TIMEOUT_MS') ?? '15000'
  const value = Number(setting)
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(
      `MATCHBOX_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds, not ${JSON.stringify(setting)}`,
    )
  }
  return value
}

/**
 * The HTTP error for a failed database call (`translateDatabaseError`); a connect timeout
 * on a pool that has been up a while also retires that pool, in case one of its connections
 * is the kind that can no longer send (above).
 */
export function databaseFailure(error: unknown): unknown {
  if (errorCode(error) === 'CONNECT_TIMEOUT' && pool && Date.now() - openedAt > MIN_POOL_AGE_MS) {
    retire(pool, 'a connection timed out connecting')
  }
  return translateDatabaseError(error)
}

let guarded = false

/** Keeps the process through postgres.js's uncaught write to a closed socket (above). */
function guardAgainstClosedSocketWrites(): void {
  if (guarded) return
  guarded = true
  globalThis.addEventListener('error', (event) => {
    if (!isClosedSocketWrite(event.error)) return
    event.preventDefault()
    // A pool already retired may still throw from its closing connections: the pool now
    // serving is replaced only if the failed connection may be one of its own.
    if (pool && lastClosedIn === pool) {
      retire(pool, 'postgres.js wrote to a closed connection (porsager/postgres#1208)')
    } else {
      console.error('postgres.js wrote to a closed connection of a retired pool: ignored')
    }
  })
}

/**
 * Replaces `retired` if it is still the pool serving: the next request opens a new one, and
 * the old one's requests get `RETIRE_GRACE_SECONDS` to finish.
 */
export function retire(retired: postgres.Sql, why: string): void {
  if (pool !== retired) return
  console.error(`database connections: ${why}; the pool is replaced`)
  pool = undefined
  retired.end({ timeout: RETIRE_GRACE_SECONDS }).catch(() => {})
}
