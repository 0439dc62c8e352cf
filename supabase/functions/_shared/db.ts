/**
 * The functions' database access: one transaction per request that runs as the caller's
 * role with its claims set, so that the migrations' grants and row-level security decide what
 * the request may do. The pool itself is pool.ts.
 */
import postgres from 'postgres'
import type { Caller } from './auth.ts'
import { isLostConnection } from './database-errors.ts'
import { HttpError } from './errors.ts'
import { database, databaseFailure, retire, statementTimeoutMs } from './pool.ts'
import { TtlCache } from './ttl-cache.ts'

export { database }

/** A transaction as the caller: what `asCaller`'s work receives. */
export type Transaction = postgres.TransactionSql

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
    throw databaseFailure(error)
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
  const pool = database()
  const names = Object.keys(settings)
  const setup = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)${names
    .map((_, i) => `, set_config($${3 + 2 * i}, $${4 + 2 * i}, true)`)
    .join('')}`
  const parameters = [
    caller.role,
    JSON.stringify(caller.claims),
    ...names.flatMap((name) => [name, settings[name]!]),
  ]
  let gaveUp = false

  const transaction = async (): Promise<T> => {
    let sql: postgres.ReservedSql | undefined
    // A connection that failed is back among the pool's closed ones already: released, it
    // would be put among the open ones, and the next query would write to its closed socket.
    let lost = false
    try {
      sql = await pool.reserve()
      if (gaveUp) throw new NoAnswer() // reserved too late: `finally` gives it back
      // `begin` first, and awaited: the embedded PGlite serves every connection in one
      // session and may interleave other connections' protocol messages until this one's
      // transaction block is open (seen under load: `portal "" does not exist`). Once it is,
      // the rest goes in one round trip.
      await sql.unsafe('begin')
      const outcomes = await settledUnlessLost([
        sql.unsafe(setup, parameters, { prepare: true }),
        statement(sql),
        sql.unsafe('commit'),
      ])
      const failures = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
      )
      if (failures.length === 0) return (outcomes[1] as PromiseFulfilledResult<T>).value
      // An aborted transaction answers commit with a rollback; make sure it is closed.
      if (outcomes[2].status === 'rejected') {
        await sql.unsafe('rollback').catch((error: unknown) => {
          if (isLostConnection(error)) lost = true
        })
      }
      throw failures[0]
    } catch (error) {
      if (isLostConnection(error)) lost = true
      throw error
    } finally {
      if (!lost) sql?.release()
    }
  }

  // A bound on the whole: the statement timeout cancels a slow statement, so an answer that
  // has not come a margin later is not coming (postgres.js can lose a queued request when a
  // connection closes; porsager/postgres#1195). Give up, and replace the pool it came from.
  const limitMs = statementTimeoutMs()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    if (limitMs === 0) return // no statement timeout: no bound either
    timer = setTimeout(() => {
      gaveUp = true
      retire(pool, 'a transaction got no answer')
      reject(new NoAnswer())
    }, limitMs + 5_000)
  })
  try {
    return await Promise.race([transaction(), deadline])
  } catch (error) {
    throw databaseFailure(error)
  } finally {
    clearTimeout(timer)
  }
}

/** A transaction that got no answer within its bound (`queryAsCaller`). */
class NoAnswer extends HttpError {
  constructor() {
    super(504, 'timeout', 'the database did not answer in time')
  }
}

/**
 * `Promise.allSettled`, except that it rejects as soon as one of them fails because the
 * connection was lost: the statements queued behind one being described are then neither
 * sent nor rejected (postgres.js 3.4.9), and would be waited for in vain.
 */
function settledUnlessLost<T extends readonly unknown[]>(
  statements: [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<{ [K in keyof T]: PromiseSettledResult<T[K]> }> {
  const lost = new Promise<never>((_, reject) => {
    for (const statement of statements as Promise<unknown>[]) {
      statement.catch((error: unknown) => {
        if (isLostConnection(error)) reject(error)
      })
    }
  })
  return Promise.race([Promise.allSettled(statements), lost])
}

const dimensionsCache = new TtlCache<string, number>()

/**
 * The dimension count of a vector column, read from the catalog: the database, not the
 * TypeScript, says how long an embedding must be. Kept for the process, or read again when
 * what is kept is older than `maxAgeMs`.
 */
export function vectorDimensions(
  table: string,
  column: string,
  maxAgeMs = Infinity,
): Promise<number> {
  return dimensionsCache.entry(`${table}.${column}`, maxAgeMs, () => readDimensions(table, column))
    .value
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
    throw databaseFailure(error)
  }
}
