/**
 * A private PgBouncer in transaction mode, in a temporary folder on a free port, in front of
 * one PostgreSQL server: the strictest stand-in for Supabase's transaction pooler (Debian's
 * PgBouncer 1.18 keeps no prepared statements across transactions). It runs as the `postgres`
 * user, so the tests must run as root; it is installed with apt on first use.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { freePort } from '../../stack/ports.ts'

const run = promisify(execFile)

/** A running PgBouncer and the controls a fault test needs. */
export interface PgBouncer {
  /** The pooler's URL, with `?pgbouncer=true` so the functions turn prepared statements off. */
  url: string
  /** Stops it at once (SIGKILL): clients lose their connections mid-transaction. */
  kill(): Promise<void>
  start(): Promise<void>
  /** Transactions it has passed on since it started (`show stats`, refreshed every second). */
  transactions(): Promise<number>
  destroy(): Promise<void>
}

/** Installs Debian's pgbouncer if it is missing (needs root). */
async function ensureInstalled(): Promise<string> {
  const binary = '/usr/sbin/pgbouncer'
  if (!existsSync(binary)) {
    await run('apt-get', ['install', '-y', 'pgbouncer'], { timeout: 300_000 })
  }
  return binary
}

/**
 * Starts PgBouncer in transaction mode in front of `serverUrl` (a trust-authenticated server
 * on loopback, as test/support/private-postgres.ts makes), with `poolSize` server connections.
 */
export async function startPgBouncer(serverUrl: string, poolSize = 5): Promise<PgBouncer> {
  const binary = await ensureInstalled()
  const server = new URL(serverUrl)
  const dir = mkdtempSync(path.join(tmpdir(), 'matchbox-pgbouncer-'))
  const { stdout: uid } = await run('id', ['-u', 'postgres'])
  const { stdout: gid } = await run('id', ['-g', 'postgres'])
  chownSync(dir, Number(uid), Number(gid))
  const port = await freePort()
  const ini = path.join(dir, 'pgbouncer.ini')
  const pidfile = path.join(dir, 'pgbouncer.pid')
  writeFileSync(path.join(dir, 'users.txt'), '"postgres" ""\n')
  // No ignore_startup_parameters: as a hosted pooler's user, the functions get none.
  writeFileSync(
    ini,
    `[databases]
* = host=${server.hostname} port=${server.port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${path.join(dir, 'users.txt')}
admin_users = postgres
pool_mode = transaction
default_pool_size = ${poolSize}
max_client_conn = 500
stats_period = 1
pidfile = ${pidfile}
logfile = ${path.join(dir, 'pgbouncer.log')}
`,
  )
  chownSync(ini, Number(uid), Number(gid))
  const start = async () => {
    await run('runuser', ['-u', 'postgres', '--', binary, '-d', ini], { timeout: 30_000 })
    await waitForPort(port)
  }
  const pid = () => Number(readFileSync(pidfile, 'utf8').trim())
  const kill = async () => {
    if (!existsSync(pidfile)) return
    const running = pid()
    process.kill(running, 'SIGKILL')
    for (let i = 0; i < 100 && alive(running); i++) await sleep(20)
    rmSync(pidfile, { force: true })
  }
  await start()
  const url = `postgresql://postgres@127.0.0.1:${port}${server.pathname}?pgbouncer=true`
  return {
    url,
    kill,
    start,
    transactions: async () => {
      const admin = postgres(`postgresql://postgres@127.0.0.1:${port}/pgbouncer`, {
        max: 1,
        prepare: false,
        fetch_types: false,
        onnotice: () => {},
      })
      try {
        const rows = await admin.unsafe('show stats').simple()
        return rows.reduce((sum, row) => sum + Number(row.total_xact_count ?? 0), 0)
      } finally {
        await admin.end()
      }
    },
    destroy: async () => {
      await kill().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net')
  for (let i = 0; i < 250; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await sleep(20)
  }
  throw new Error(`pgbouncer did not listen on ${port}`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
