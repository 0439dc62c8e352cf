/**
 * CPU time by process, from Linux's /proc: on a machine whose cores the client, the gateway,
 * the functions and the database all share, CPU per request is what decides throughput, so
 * each cell records how much of it each process spent.
 */
import { readFileSync } from 'node:fs'
import type postgres from 'postgres'

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100

/** User + system CPU milliseconds `pid` has used so far, or 0 if it is gone. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : 0
  } catch {
    return 0
  }
}

/** CPU milliseconds of this process (the benchmark's client side). */
function ownCpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** Where a cell's CPU went, in milliseconds per request. */
export interface CpuPerRequest {
  /** The benchmark's own process: the load driver and the client library (postgres.js, fetch, SDK). */
  client: number
  /** The HTTP server's Deno process: the gateway and the functions, or the minimal server. */
  functions: number
  /** The database: the backends of the benchmark's database (native), or PGlite's process. */
  database: number
}

/** CPU milliseconds each process spent over some span. */
export type CpuTotals = CpuPerRequest

/** The sum of two spans' CPU. */
export function addCpu(a: CpuTotals | undefined, b: CpuTotals): CpuTotals {
  return a
    ? {
        client: a.client + b.client,
        functions: a.functions + b.functions,
        database: a.database + b.database,
      }
    : b
}

/** CPU totals divided over `requests`. */
export function perRequest(totals: CpuTotals, requests: number): CpuPerRequest {
  const per = (ms: number) => (requests > 0 ? ms / requests : NaN)
  return {
    client: per(totals.client),
    functions: per(totals.functions),
    database: per(totals.database),
  }
}

/** Takes CPU readings of every process at the start of a span and sums them at its end. */
export class CpuMeter {
  #start = { client: 0, servers: new Map<number, number>(), database: new Map<number, number>() }

  constructor(
    private readonly sql: postgres.Sql,
    /** The HTTP servers' processes (functions, minimal server): only the layer's own is busy. */
    private readonly serverPids: () => readonly number[],
    /** PGlite's process; for a native server the database's backends are found by query. */
    private readonly databasePid: number | undefined,
  ) {}

  /** Records the readings the span will be measured from. */
  async start(): Promise<void> {
    const database = new Map<number, number>()
    for (const pid of await this.#databasePids()) database.set(pid, processCpuMs(pid))
    const servers = new Map(this.serverPids().map((pid) => [pid, processCpuMs(pid)]))
    this.#start = { client: ownCpuMs(), servers, database }
  }

  /** CPU milliseconds each process spent since `start`. */
  async stop(): Promise<CpuTotals> {
    const client = ownCpuMs() - this.#start.client
    let functions = 0
    for (const pid of this.serverPids()) {
      // A server that died meanwhile reads 0 (its CPU is lost), one restarted reads from now.
      const since = this.#start.servers.get(pid) ?? processCpuMs(pid)
      functions += Math.max(0, processCpuMs(pid) - since)
    }
    let database = 0
    for (const pid of await this.#databasePids()) {
      database += processCpuMs(pid) - (this.#start.database.get(pid) ?? 0)
    }
    return { client, functions, database }
  }

  async #databasePids(): Promise<number[]> {
    if (this.databasePid) return [this.databasePid]
    const rows = await this.sql`
      select pid from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`
    return rows.map((row) => Number(row.pid))
  }
}
