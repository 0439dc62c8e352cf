/** Runs bootstrap.sql: the Supabase roles and `auth` helpers a plain Postgres lacks. */
import { readFileSync } from 'node:fs'
import postgres from 'postgres'

const BOOTSTRAP_SQL = readFileSync(new URL('./bootstrap.sql', import.meta.url), 'utf8')

/** Makes the database at `dbUrl` ready for the migrations. Idempotent; a no-op on Supabase. */
export async function bootstrapDatabase(dbUrl: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    await sql.unsafe(BOOTSTRAP_SQL)
  } finally {
    await sql.end()
  }
}
