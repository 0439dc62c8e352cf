/**
 * The functions' database access: one transaction per request that runs as the caller's
 * role with its claims set, so that the migrations' grants and row-level security decide what
 * the request may do. The pools are pool.ts; read replicas are replicas.ts.
 *
 * Every setting is made for the transaction only (`set_config(…, true)`), in the statement
 * that opens it, and no prepared statement is relied on past its transaction: the database
 * URL may be a transaction pooler's (PgBouncer, Supavisor).
 */
import type postgres from 'postgres'
import type { Caller } from './auth.ts'
import { type Lsn, parseLsn, readsAfter, wroteAt } from './consistency.ts'
import { errorCode, isConnectionFailure, isLostConnection } from './database-errors.ts'
import { HttpError } from './errors.ts'
import { database, databaseFailure, reserve, retire, statementTimeoutMs } from './pool.ts'
import { configuredReplicas, replicaFor } from './replicas.ts'
import { TtlCache } from './ttl-cache.ts'

export { database }
export { CONSISTENCY_HEADER, consistencyHeaders, readAfter } from './consistency.ts'

/** A transaction as the caller: what `asCaller`'s work receives. */
export type Transaction = postgres.ReservedSql

/** How a transaction runs. */
export interface TransactionOptions {
  /** Settings for this transaction only, e.g. `{ 'hnsw.ef_search': '100' }`. */
  settings?: Readonly<Record<string, string>>
  /**
   * The transaction only reads: it may run on a read replica (`MATCHBOX_DB_READ_URLS`). A
   * replica refuses writes, so a transaction that writes must not say this.
   */
  readOnly?: boolean
}

/**
 * Runs `work` in a transaction as the caller's role, with `request.jwt.claims` set as
 * PostgREST sets it (so `auth.uid()`, `auth.role()` and `auth.jwt()` work in policies), and
 * translates the database's refusals into HTTP errors. Begin and the settings go out with
 * `work`'s first statement; commit after its last.
 *
 * @example
 * await asCaller(caller, (tx) => tx`select count(*) from public.items`, { readOnly: true })
 */
export function asCaller<T>(
  caller: Caller,
  work: (tx: Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  return routed(caller, options, (pool, recordWrite) =>
    transaction(pool, caller, options.settings ?? {}, work, { pipelined: false, recordWrite }),
  )
}

/**
 * Runs one statement as the caller, as `asCaller` does, but sends the whole transaction at
 * once: begin, the role and claims (and `settings`, e.g. `hnsw.ef_search`, for this
 * transaction only), the statement, commit — one write, one reply, one round trip to the
 * database (on the embedded PGlite, two: `begin` is awaited first; see `transaction`).
 *
 * The statements run in the order sent, so the statement never runs before the role is set:
 * if any fails, those after it fail too (the transaction is aborted) and the commit rolls
 * back. The first failure is the one reported.
 *
 * @example
 * await queryAsCaller(caller, (sql) => sql`select … from public.match_items(…)`, {
 *   'hnsw.ef_search': '100',
 * }, { readOnly: true })
 */
export function queryAsCaller<T>(
  caller: Caller,
  statement: (sql: postgres.ReservedSql) => Promise<T>,
  settings: Readonly<Record<string, string>> = {},
  options: Pick<TransactionOptions, 'readOnly'> = {},
): Promise<T> {
  return routed(caller, options, (pool, recordWrite) =>
    transaction(pool, caller, settings, statement, { pipelined: true, recordWrite }),
  )
}

/**
 * Runs `run` on the database the transaction belongs on: the primary, or for a read a
 * replica when one is healthy (and has replayed the request's consistency token). A read
 * that fails on a replica for the replica's sake (it died, it is restarting, recovery
 * cancelled the query) runs again on the primary: a replica's trouble is never the caller's.
 */
async function routed<T>(
  caller: Caller,
  options: Pick<TransactionOptions, 'readOnly'>,
  run: (pool: postgres.Sql, recordWrite: boolean) => Promise<{ value: T; lsn?: Lsn }>,
): Promise<T> {
  const withReplicas = configuredReplicas().length > 0
  let pool: postgres.Sql | undefined
  try {
    if (options.readOnly && withReplicas) {
      const replica = await replicaFor(readsAfter(caller))
      if (replica) {
        pool = replica.slot.sql
        try {
          return (await run(pool, false)).value
        } catch (error) {
          if (!replicaTrouble(error)) throw error
          replica.failed(`a read failed (${errorCode(error) ?? 'no answer'})`)
        }
      }
    }
    pool = database()
    const { value, lsn } = await run(pool, withReplicas && !options.readOnly)
    if (lsn !== undefined) wroteAt(caller, lsn)
    return value
  } catch (error) {
    throw databaseFailure(error, pool)
  }
}

/** SQLSTATEs of a replica's own trouble: recovery conflicts and refused connections. */
const REPLICA_TROUBLE = new Set(['40001', '40P01', '53300', '57P04'])

function replicaTrouble(error: unknown): boolean {
  const code = errorCode(error)
  return (
    error instanceof NoAnswer ||
    isLostConnection(error) ||
    isConnectionFailure(error) ||
    (typeof code === 'string' && REPLICA_TROUBLE.has(code))
  )
}

/** Whether `begin` must be answered before the rest is sent (the embedded PGlite). */
function awaitBegin(): boolean {
  return embeddedDatabase()
}

let embedded: boolean | undefined

/** Whether the database is the local stack's embedded PGlite (the stack says so at start). */
export function embeddedDatabase(): boolean {
  // Read once: the environment does not change, and each read is a call into the runtime.
  embedded ??= Deno.env.get('MATCHBOX_DB_EMBEDDED') === '1'
  return embedded
}

/**
 * One transaction on a reserved connection of `pool`: begin, the setup statement (role,
 * claims, statement timeout, `settings`), `body`, commit, and for a write when replicas are
 * configured the WAL position after the commit. Nothing is awaited in between, so postgres.js
 * writes what is queued in one go: with `pipelined`, the body's one statement and the commit
 * too (one round trip in all); otherwise the commit follows the body's last answer.
 *
 * On the embedded PGlite `begin` is awaited first: its socket server serves every connection in
 * one session and may interleave another connection's messages until this one's transaction
 * block is open (seen under load: `portal "" does not exist`).
 */
async function transaction<T>(
  pool: postgres.Sql,
  caller: Caller,
  settings: Readonly<Record<string, string>>,
  body: (sql: postgres.ReservedSql) => Promise<T>,
  { pipelined, recordWrite }: { pipelined: boolean; recordWrite: boolean },
): Promise<{ value: T; lsn?: Lsn }> {
  const names = Object.keys(settings)
  const setup = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)${names
    .map((_, i) => `, set_config($${4 + 2 * i}, $${5 + 2 * i}, true)`)
    .join('')}`
  const parameters = [
    caller.role,
    JSON.stringify(caller.claims),
    String(statementTimeoutMs()),
    ...names.flatMap((name) => [name, settings[name]!]),
  ]
  let gaveUp = false

  const run = async (): Promise<{ value: T; lsn?: Lsn }> => {
    let sql: postgres.ReservedSql | undefined
    // A connection that failed is back among the pool's closed ones already: released, it
    // would be put among the open ones, and the next query would write to its closed socket.
    let lost = false
    try {
      sql = await reserve(pool)
      if (gaveUp) throw new NoAnswer() // reserved too late: `finally` gives it back
      const reserved = sql
      // Sent now, before the body makes its first statement: postgres.js sends a query when
      // it is first awaited, so a lazy setup would go out after the body's first statement,
      // which would then run without the caller's role, claims and settings.
      const begin = reserved.unsafe('begin').execute()
      if (awaitBegin()) await begin
      const opening = [
        begin,
        reserved.unsafe(setup, parameters, { prepare: true }).execute(),
      ] as const
      const ending = () => [
        reserved.unsafe('commit'),
        recordWrite
          ? reserved.unsafe<{ lsn: string }[]>('select pg_current_wal_insert_lsn()::text as lsn')
          : Promise.resolve(undefined),
      ]
      let outcomes: PromiseSettledResult<unknown>[]
      if (pipelined) {
        outcomes = await settledUnlessLost([
          ...opening,
          attempt(body, eager(reserved)),
          ...ending(),
        ])
      } else {
        // The body's first statement is queued behind begin and setup, unanswered: one write.
        // Awaited with them, since a statement queued behind one that is lost is never answered.
        const before = await settledUnlessLost([...opening, attempt(body, reserved)])
        outcomes = before.some((o) => o.status === 'rejected')
          ? [...before, { status: 'rejected', reason: null }]
          : [...before, ...(await settledUnlessLost(ending()))]
      }
      const failures = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' && outcome.reason !== null ? [outcome.reason as unknown] : [],
      )
      const committed = outcomes[3]!
      if (failures.length === 0) {
        const position = outcomes[4] as PromiseFulfilledResult<{ lsn: string }[] | undefined>
        return {
          value: (outcomes[2] as PromiseFulfilledResult<T>).value,
          lsn: parseLsn(position.value?.[0]?.lsn),
        }
      }
      // An aborted transaction answers commit with a rollback; make sure it is closed.
      if (committed.status === 'rejected') {
        await reserved.unsafe('rollback').catch((error: unknown) => {
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
    return await Promise.race([run(), deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** `work(sql)` as a promise, even when it throws before returning one. */
/**
 * The connection as a pipelined body sees it: every query it makes is sent at once, in the
 * order made. postgres.js sends a query only when something awaits it; a body that makes
 * several and awaits them later (or through `Promise.all`, which awaits a microtask later)
 * would have them sent after the commit queued behind it — outside the transaction, without
 * the caller's role and settings.
 */
function eager(sql: postgres.ReservedSql): postgres.ReservedSql {
  const execute = <Q>(query: Q): Q => {
    ;(query as { execute?: () => unknown }).execute?.()
    return query
  }
  return new Proxy(sql, {
    apply: (target, self, args) => execute(Reflect.apply(target, self, args)),
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (property !== 'unsafe' || typeof value !== 'function') return value
      return (...args: unknown[]) => execute(Reflect.apply(value, target, args))
    },
  })
}

function attempt<T>(work: (sql: postgres.ReservedSql) => Promise<T>, sql: postgres.ReservedSql) {
  try {
    return work(sql)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** A transaction that got no answer within its bound (`transaction`). */
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
function settledUnlessLost(
  statements: readonly Promise<unknown>[],
): Promise<PromiseSettledResult<unknown>[]> {
  const lost = new Promise<never>((_, reject) => {
    for (const statement of statements) {
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
