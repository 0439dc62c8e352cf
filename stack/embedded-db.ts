/**
 * The embedded database: PGlite (PostgreSQL in WASM) with pgvector, served over the
 * Postgres wire protocol so that the Supabase CLI, postgres.js and psql reach it like any
 * server. Its files persist in `dataDir` across restarts.
 */
import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/** A running embedded database. */
export interface EmbeddedDb {
  url: string
  stop(): Promise<void>
}

/** Where and how to serve the embedded database. */
export interface EmbeddedDbOptions {
  dataDir: string
  port: number
  host?: string
}

/**
 * Opens (or creates) the database in `dataDir` and serves it on `host:port`.
 *
 * PGlite runs one query at a time: the socket server queues clients, and a client inside a
 * transaction holds the database until it commits.
 */
export async function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const host = options.host ?? '127.0.0.1'
  mkdirSync(options.dataDir, { recursive: true })
  const db = await PGlite.create({ dataDir: options.dataDir, extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host, port: options.port, maxConnections: 100 })
  try {
    await server.start()
  } catch (error) {
    await db.close()
    throw error
  }
  return {
    url: `postgresql://postgres:postgres@${host}:${options.port}/postgres`,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}
