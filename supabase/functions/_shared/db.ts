/**
 * The functions' database access: one transaction per request that runs as the caller's
 * role with its claims set, so that the migrations' grants and row-level security decide what
 * the request may do. The pool itself is pool.ts.
 */
import postgres from 'postgres'
import type { Caller } from './auth.ts'
import { isConnectionFailure } from './database-errors.ts'
import { database, databaseFailure, retirePool, statementTimeoutMs } from './pool.ts'

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
  let sql: postgres.ReservedSql | undefined
  let lost = false
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
    const [configured, result, committed] = await settleOrGiveUp([
      sql.unsafe(setup, parameters, { prepare: true }),
      statement(sql),
      sql.unsafe('commit'),
    ])
    const outcomes = [configured, result, committed]
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
    )
    if (failures.length > 0) {
      if (failures.some(isConnectionFailure)) {
        // No transaction is left to roll back, and writing to the closed socket is what
        // postgres.js mishandles (pool.ts).
        lost = true
      } else if (committed.status === 'rejected') {
        // An aborted transaction answers commit with a rollback; make sure it is closed.
        await sql.unsafe('rollback').catch(() => {})
      }
      throw failures[0]
    }
    return (result as PromiseFulfilledResult<T>).value
  } catch (error) {
    if (isConnectionFailure(error)) lost = true
    throw databaseFailure(error)
  } finally {
    // A connection that failed is back among the pool's closed ones already: released, it
    // would be put among the open ones, and the next query would write to its closed socket.
    if (!lost) sql?.release()
  }
}

/** The statements of a pipelined transaction never settled (see `settleOrGiveUp`). */
class NoAnswer extends Error {
  readonly code = 'CONNECTION_CLOSED'
}

/**
 * `Promise.allSettled`, with a deadline. A reserved connection that closes while its first
 * statement is being described leaves the statements queued behind it neither sent nor
 * rejected (postgres.js 3.4.9): they would wait for ever, holding the request. Past the
 * statement timeout and a margin, no answer is coming: give up, and replace the pool, which
 * ends that connection too.
 */
async function settleOrGiveUp<T extends readonly unknown[]>(
  statements: [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<{ [K in keyof T]: PromiseSettledResult<T[K]> }> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      retirePool('a transaction got no answer')
      reject(new NoAnswer('the database did not answer'))
    }, statementTimeoutMs() + 5_000)
  })
  try {
    return await Promise.race([Promise.allSettled(statements), deadline])
  } finally {
    clearTimeout(timer)
  }
}

const dimensionsCache = new Map<string, { at: number; dimensions: Promise<number> }>()

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
  const key = `${table}.${column}`
  const cached = dimensionsCache.get(key)
  if (cached && Date.now() - cached.at <= maxAgeMs) return cached.dimensions
  const entry = { at: Date.now(), dimensions: readDimensions(table, column) }
  // A failed read (database down) must not be kept.
  entry.dimensions.catch(() => {
    if (dimensionsCache.get(key) === entry) dimensionsCache.delete(key)
  })
  dimensionsCache.set(key, entry)
  return entry.dimensions
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

/** Builds pgvector's text form of a vector, `[1,2,3]`, for a bound parameter. */
export function vectorLiteral(values: readonly number[]): string {
  return `[${values.join(',')}]`
}

/** Reads pgvector's text form back into numbers (it is a JSON array). */
export function parseVector(text: string): number[] {
  return JSON.parse(text) as number[]
}
