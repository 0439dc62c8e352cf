/** Readies a database for Matchbox: the bootstrap, then the migrations through the CLI. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bootstrapDatabase } from './bootstrap.ts'
import { type CliOutput, pushMigrations } from './cli.ts'
import { startEmbeddedDb } from './embedded-db.ts'
import { freePort } from './ports.ts'

/** Bootstraps the database at `dbUrl` and pushes the migrations; returns the CLI's output. */
export async function prepareDatabase(dbUrl: string): Promise<CliOutput> {
  await bootstrapDatabase(dbUrl)
  return pushMigrations(dbUrl)
}

/**
 * Runs `work` against a fresh, migrated embedded database in a temporary folder on a free
 * port, then removes it: for type generation and checks that need the schema, not data.
 */
export async function withFreshDatabase<T>(work: (dbUrl: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-db-'))
  const db = await startEmbeddedDb({ dataDir, port: await freePort() })
  try {
    await prepareDatabase(db.url)
    return await work(db.url)
  } finally {
    await db.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
