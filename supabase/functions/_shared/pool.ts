/**
 * The functions' connection pools: one per database URL per process (the primary, and each
 * read replica of replicas.ts), opened on first use, and replaced when postgres.js leaves one
 * of its connections unusable after the database dropped it.
 *
 * The primary is `MATCHBOX_FUNCTIONS_DB_URL` if set (e.g. a transaction pooler), else
 * `SUPABASE_DB_URL` as Supabase provides it. Nothing here relies on session state: every
 * setting is made per transaction (db.ts), so the URL may be a transaction pooler's.
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
/**
 * How long a request may still wait for a connection after one of the pool's connections
 * closed: postgres.js hands a waiting reservation to the closed connection's reconnection and
 * drops it there when that connection must fetch types first (a new one does), so the
 * request would wait for ever. Past this it is answered 503 instead.
 */
const RESERVE_AFTER_CLOSE_MS = 1_000
/** The port hosted Supabase's transaction pooler (Supavisor) listens on. */
const TRANSACTION_POOLER_PORT = '6543'

/** How to connect to one database URL. */
export interface ConnectionSettings {
  /** The URL postgres.js gets: Matchbox's own flags (`pgbouncer`) taken out. */
  url: string
  /**
   * Whether postgres.js names its prepared statements and keeps them per connection. A
   * transaction pooler hands each transaction any server connection, where a statement
   * prepared in an earlier transaction does not exist: off behind one.
   */
  prepare: boolean
}

/**
 * How to connect to `url`: named prepared statements unless `MATCHBOX_DB_PREPARE=false`, the
 * URL says `?pgbouncer=true` (or `?prepare=false`), or its port is 6543 (Supavisor's
 * transaction mode); `MATCHBOX_DB_PREPARE=true` forces them on.
 *
 * @example
 * connectionSettings('postgresql://u:p@host:6543/postgres', {}) // { prepare: false, … }
 */
export function connectionSettings(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionSettings {
  const parsed = new URL(url)
  const flag = parsed.searchParams.get('pgbouncer')
  parsed.searchParams.delete('pgbouncer') // postgres.js would send it on as a startup parameter
  const forced = env.MATCHBOX_DB_PREPARE
  if (forced !== undefined && forced !== '' && forced !== 'true' && forced !== 'false') {
    throw new Error(`MATCHBOX_DB_PREPARE must be true or false, not ${JSON.stringify(forced)}`)
  }
  const pooled =
    flag === 'true' ||
    parsed.searchParams.get('prepare') === 'false' ||
    parsed.port === TRANSACTION_POOLER_PORT
  return {
    url: flag === null ? url : parsed.toString(),
    prepare: forced ? forced === 'true' : !pooled,
  }
}

/**
 * postgres.js stops pipelining at 100 statements in flight (its `max_pipeline`, not in its
 * types) and sends the rest one per answer: a batch of 100 searches, 203 statements, took 103 to
 * 107 round trips (counted on the wire). A batch is at most 100 searches of up to 4 statements.
 */
const PIPELINE = { max_pipeline: 1024 }

/** One database's pool, opened on first use and replaced when it goes bad. */
export class PoolSlot {
  #pool: postgres.Sql | undefined
  #openedAt = 0
  readonly #closeListeners = new Set<() => void>()
  readonly settings: ConnectionSettings

  /** `name` says which database in logs (`primary`, `replica 1`). */
  constructor(
    readonly name: string,
    url: string,
    private readonly size: number,
  ) {
    this.settings = connectionSettings(url, Deno.env.toObject())
  }

  /** The pool serving now, opened if there is none. */
  get sql(): postgres.Sql {
    if (this.#pool) return this.#pool
    guardAgainstClosedSocketWrites()
    const opened: postgres.Sql = postgres(this.settings.url, {
      max: this.size,
      prepare: this.settings.prepare,
      ...PIPELINE,
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
        for (const listener of this.#closeListeners) listener()
      },
      // db.ts sets the statement timeout in every transaction. On a direct connection it is also
      // set at startup, for the session: a statement that planned for minutes was cancelled that
      // way and not by the transaction's setting (test/integration/hostile-costs.test.ts). A
      // transaction pooler refuses it there ("unsupported startup parameter").
      connection: this.settings.prepare
        ? { application_name: 'matchbox-functions', statement_timeout: statementTimeoutMs() }
        : { application_name: 'matchbox-functions' },
    })
    this.#pool = opened
    this.#openedAt = Date.now()
    return opened
  }

  /**
   * A connection of the pool for one transaction, as `sql.reserve()` gives, except that a
   * wait that a closing connection may have swallowed ends (RESERVE_AFTER_CLOSE_MS above).
   */
  reserve(sql: postgres.Sql): Promise<postgres.ReservedSql> {
    const reservation = sql.reserve()
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      let abandoned = false
      const closed = () => {
        timer ??= setTimeout(() => {
          abandoned = true
          done()
          reject(lostReservation())
        }, RESERVE_AFTER_CLOSE_MS)
      }
      const done = () => {
        clearTimeout(timer)
        this.#closeListeners.delete(closed)
      }
      this.#closeListeners.add(closed)
      reservation.then(
        (reserved) => {
          done()
          if (abandoned) reserved.release()
          else resolve(reserved)
        },
        (error: unknown) => {
          done()
          reject(error)
        },
      )
    })
  }

  /** Whether `sql` is this slot's pool now. */
  serves(sql: postgres.Sql | undefined): boolean {
    return sql !== undefined && sql === this.#pool
  }

  /** Whether the pool has been up long enough that a connect timeout says it went bad. */
  get settled(): boolean {
    return this.#pool !== undefined && Date.now() - this.#openedAt > MIN_POOL_AGE_MS
  }

  /** Replaces `retired` if it is still this slot's pool (module comment). */
  retire(retired: postgres.Sql, why: string): void {
    if (this.#pool !== retired) return
    console.error(`database connections (${this.name}): ${why}; the pool is replaced`)
    this.#pool = undefined
    retired.end({ timeout: RETIRE_GRACE_SECONDS }).catch(() => {})
  }
}

const slots: PoolSlot[] = []
let primary: PoolSlot | undefined
/** The pool a connection closed in most recently: where a failed write comes from. */
let lastClosedIn: postgres.Sql | undefined

/** The size of each pool: `MATCHBOX_DB_POOL_SIZE`, 10 if unset. */
function poolSize(): number {
  return Number(Deno.env.get('MATCHBOX_DB_POOL_SIZE') ?? 10)
}

/**
 * A new pool slot for `url`, known to the closed-socket guard and to `retire`.
 * replicas.ts makes one per read replica.
 */
export function openSlot(name: string, url: string): PoolSlot {
  const slot = new PoolSlot(name, url, poolSize())
  slots.push(slot)
  return slot
}

/** The primary's slot: `MATCHBOX_FUNCTIONS_DB_URL`, else `SUPABASE_DB_URL`. */
export function primarySlot(): PoolSlot {
  if (primary) return primary
  const url = Deno.env.get('MATCHBOX_FUNCTIONS_DB_URL') || Deno.env.get('SUPABASE_DB_URL')
  if (!url) throw new Error('SUPABASE_DB_URL is not set')
  primary = openSlot('primary', url)
  return primary
}

/** The primary's pool: every write, and every read when no replica is configured. */
export function database(): postgres.Sql {
  return primarySlot().sql
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
 * on a pool that has been up a while also retires that pool (the primary's unless `pool` is
 * given), in case one of its connections is the kind that can no longer send (above).
 */
export function databaseFailure(error: unknown, pool?: postgres.Sql): unknown {
  if (errorCode(error) === 'CONNECT_TIMEOUT') {
    const slot = pool ? slots.find((s) => s.serves(pool)) : primary
    if (slot?.settled) retire(slot.sql, 'a connection timed out connecting')
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
    const slot = slots.find((s) => s.serves(lastClosedIn))
    if (slot && lastClosedIn) {
      slot.retire(lastClosedIn, 'postgres.js wrote to a closed connection (porsager/postgres#1208)')
    } else {
      console.error('postgres.js wrote to a closed connection of a retired pool: ignored')
    }
  })
}

/**
 * A connection of `pool` for one transaction (`PoolSlot.reserve`): use this, not
 * `pool.reserve()`, so that a connection closing cannot leave the request waiting for ever.
 */
export function reserve(pool: postgres.Sql): Promise<postgres.ReservedSql> {
  const slot = slots.find((s) => s.serves(pool))
  return slot ? slot.reserve(pool) : pool.reserve()
}

function lostReservation(): Error {
  const error = new Error('a connection closed while this request waited for one')
  return Object.assign(error, { code: 'CONNECTION_CLOSED' })
}

/**
 * Replaces `retired` if it is still the pool serving its database: the next request opens a
 * new one, and the old one's requests get `RETIRE_GRACE_SECONDS` to finish.
 */
export function retire(retired: postgres.Sql, why: string): void {
  for (const slot of slots) slot.retire(retired, why)
}
