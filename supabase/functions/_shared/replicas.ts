/**
 * Read replicas (`MATCHBOX_DB_READ_URLS`, comma-separated streaming standbys): where a read
 * may run, round-robin among the healthy ones, and the WAL positions that make a read see the
 * caller's own writes.
 *
 * Every second the primary's WAL position and each replica's replay position are read; a
 * replica is healthy while it answers and has replayed everything the primary had written
 * `MAX_LAG_MS` ago. An unhealthy one gets no reads until a check finds it healthy again.
 */
import postgres from 'postgres'
import { formatLsn, type Lsn, parseLsn } from './consistency.ts'
import { errorCode } from './database-errors.ts'
import { openSlot, type PoolSlot, primarySlot, retire } from './pool.ts'

/** Replay lag past which a replica gets no reads. */
export const MAX_LAG_MS = 5_000
/** How long a read with a consistency token waits for a replica to replay it. */
export const REPLAY_WAIT_MS = 100
const CHECK_EVERY_MS = 1_000
/** A check that takes longer than this counts as failed: the replica is not serving. */
const CHECK_TIMEOUT_MS = 1_000

/** One read replica and what the last check found. */
export class Replica {
  healthy = false
  /** The highest replay position seen on it. */
  replayed: Lsn = 0n
  lagMs = Infinity
  constructor(readonly slot: PoolSlot) {}

  /** Takes it out of rotation until a check finds it healthy again. */
  failed(why: string): void {
    if (this.healthy)
      console.error(`${this.slot.name}: ${why}; reads go elsewhere until it is back`)
    this.healthy = false
  }
}

let replicas: Replica[] | undefined
let next = 0
let firstCheck: Promise<void> | undefined
/** The primary's WAL position over the last seconds, oldest first: what lag is measured by. */
const primaryPositions: { at: number; lsn: Lsn }[] = []

/** The replicas `MATCHBOX_DB_READ_URLS` names; none when it is unset. */
export function configuredReplicas(): readonly Replica[] {
  if (replicas) return replicas
  const urls = (Deno.env.get('MATCHBOX_DB_READ_URLS') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
  replicas = urls.map((url, i) => new Replica(openSlot(`replica ${i + 1}`, url)))
  if (replicas.length > 0) {
    firstCheck = checkAll()
    const timer = setInterval(() => void checkAll(), CHECK_EVERY_MS)
    Deno.unrefTimer(timer)
  }
  return replicas
}

/**
 * The replica a read runs on, round-robin among the healthy ones, or undefined for the
 * primary. With `after` (a consistency token), only a replica that has replayed that position,
 * or does so within `REPLAY_WAIT_MS`, is chosen.
 */
export async function replicaFor(after?: Lsn): Promise<Replica | undefined> {
  const all = configuredReplicas()
  if (all.length === 0) return undefined
  await firstCheck
  const healthy = all.filter((replica) => replica.healthy)
  if (healthy.length === 0) return undefined
  const start = next++ % healthy.length
  const ordered = [...healthy.slice(start), ...healthy.slice(0, start)]
  if (after === undefined) return ordered[0]
  const caughtUp = ordered.find((replica) => replica.replayed >= after)
  if (caughtUp) return caughtUp
  return (await waitForReplay(ordered[0]!, after)) ? ordered[0] : undefined
}

/**
 * Waits on the replica, in one statement, until it has replayed `after` or `REPLAY_WAIT_MS`
 * have passed (ten polls 10 ms apart).
 */
async function waitForReplay(replica: Replica, after: Lsn): Promise<boolean> {
  const polls = Math.ceil(REPLAY_WAIT_MS / 10)
  try {
    const [row] = await replica.slot.sql.unsafe(
      `with recursive w(i, lsn) as (
         select 0, pg_last_wal_replay_lsn()
         union all
         select w.i + 1, (select pg_last_wal_replay_lsn() from (select pg_sleep(0.01) where w.i >= 0) as s)
         from w where w.lsn < $1::pg_lsn and w.i < $2
       ) select max(lsn)::text as replayed from w`,
      [formatLsn(after), polls],
    )
    noteReplayed(replica, parseLsn(row?.replayed))
    return replica.replayed >= after
  } catch (error) {
    replica.failed(`waiting for replay failed (${describe(error)})`)
    return false
  }
}

function noteReplayed(replica: Replica, lsn: Lsn | undefined): void {
  if (lsn !== undefined && lsn > replica.replayed) replica.replayed = lsn
}

let checking = false

/** Reads the primary's position and every replica's, and decides which are healthy. */
async function checkAll(): Promise<void> {
  if (checking) return
  checking = true
  try {
    const all = replicas ?? []
    const now = Date.now()
    try {
      const [row] = await withTimeout(primarySlot().sql`select pg_current_wal_lsn()::text as lsn`)
      const lsn = parseLsn(row?.lsn)
      if (lsn !== undefined) primaryPositions.push({ at: now, lsn })
    } catch {
      // The primary's own failures are its requests' business; lag is judged on what is known.
    }
    while (primaryPositions.length > 0 && primaryPositions[0]!.at < now - 2 * MAX_LAG_MS) {
      primaryPositions.shift()
    }
    await Promise.all(all.map((replica) => checkReplica(replica, now)))
  } finally {
    checking = false
  }
}

async function checkReplica(replica: Replica, now: number): Promise<void> {
  const pool = replica.slot.sql
  try {
    const [row] = await withTimeout(
      pool`select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replayed`,
    )
    if (!row?.standby) {
      replica.failed('is not a standby (pg_is_in_recovery() is false)')
      return
    }
    noteReplayed(replica, parseLsn(row.replayed))
    replica.lagMs = lagMs(replica.replayed, now)
    if (replica.lagMs > MAX_LAG_MS) {
      replica.failed(`lags ${Math.round(replica.lagMs)} ms behind the primary`)
    } else if (!replica.healthy) {
      console.error(`${replica.slot.name}: healthy again, serving reads`)
      replica.healthy = true
    }
  } catch (error) {
    replica.failed(`does not answer (${describe(error)})`)
    // A connect timeout may mean a pool left unable to send (pool.ts): start afresh.
    if (errorCode(error) === 'CONNECT_TIMEOUT' && replica.slot.settled) {
      retire(pool, 'a replica check timed out connecting')
    }
  }
}

/**
 * How long ago the primary first had WAL the replica has not replayed: 0 when it has replayed
 * the newest position seen, the whole window when it has not replayed even the oldest.
 */
function lagMs(replayed: Lsn, now: number): number {
  const behind = primaryPositions.find((sample) => sample.lsn > replayed)
  if (!behind) return 0
  return now - behind.at
}

/** What the last checks found, for logs and tests. */
export function replicaHealth(): { name: string; healthy: boolean; lagMs: number }[] {
  return (replicas ?? []).map((r) => ({ name: r.slot.name, healthy: r.healthy, lagMs: r.lagMs }))
}

function withTimeout<T>(query: postgres.PendingQuery<postgres.Row[]> & Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      query.cancel()
      reject(Object.assign(new Error('no answer within a second'), { code: 'CHECK_TIMEOUT' }))
    }, CHECK_TIMEOUT_MS)
  })
  return Promise.race([query, timeout]).finally(() => clearTimeout(timer))
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
