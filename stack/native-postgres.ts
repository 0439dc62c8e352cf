/**
 * The native PostgreSQL tier: the cluster scripts/install-postgres.sh installs and runs, and
 * throwaway databases on it for the test suite and the benchmark.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { ROOT } from './paths.ts'

const run = promisify(execFile)

/**
 * The URL of the native server: `MATCHBOX_PG_URL` if set, otherwise what
 * scripts/install-postgres.sh prints (it installs PostgreSQL and pgvector on first use, and is
 * quick and idempotent afterwards; it needs root).
 */
export async function nativeServerUrl(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.MATCHBOX_PG_URL) return env.MATCHBOX_PG_URL
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the native tier needs scripts/install-postgres.sh, which must run as root: run this as root, or set MATCHBOX_PG_URL to a PostgreSQL server with pgvector >= 0.8',
    )
  }
  const script = path.join(ROOT, 'scripts', 'install-postgres.sh')
  try {
    const { stdout } = await run(script, [], { timeout: 15 * 60_000 })
    const url = stdout.trim().split('\n').pop() ?? ''
    if (!url.startsWith('postgres')) throw new Error(`unexpected output: ${stdout}`)
    return url
  } catch (error) {
    const failure = error as { stderr?: string; message: string }
    throw new Error(
      `scripts/install-postgres.sh failed: ${failure.stderr?.trim() || failure.message}`,
    )
  }
}

/**
 * Drops the database `name` on the server at `serverUrl` if it exists (disconnecting its
 * sessions), creates it empty, and answers its URL.
 *
 * @example
 * const dbUrl = await recreateDatabase(await nativeServerUrl(), 'matchbox_test')
 */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    await sql`drop database if exists ${sql(name)} with (force)`
    await sql`create database ${sql(name)}`
  } finally {
    await sql.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}
