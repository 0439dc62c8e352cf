/**
 * `npm run db:reset`: wipes the database and re-applies supabase/migrations.
 *
 * Embedded: deletes .matchbox/db (or MATCHBOX_DATA_DIR) and builds it afresh. With
 * SUPABASE_DB_URL: `supabase db reset` against that database, which drops what the
 * migrations made and applies them again.
 */
import { rmSync } from 'node:fs'
import { parseOrExit } from '../cli/args.ts'
import { bootstrapDatabase } from '../stack/bootstrap.ts'
import { databaseEnv, supabaseCli } from '../stack/cli.ts'
import { startEmbeddedDb } from '../stack/embedded-db.ts'
import { DEFAULT_DATA_DIR } from '../stack/paths.ts'
import { freePort } from '../stack/ports.ts'
import { prepareDatabase } from '../stack/prepare.ts'
import { readLiveState } from '../stack/state.ts'
import { redact } from '../stack/stack.ts'

const USAGE = `usage: npm run db:reset

Wipes the database and applies supabase/migrations afresh: the embedded one in .matchbox/db
(or MATCHBOX_DATA_DIR), or the one at SUPABASE_DB_URL. Refuses while the stack runs.

  --help    this text`

async function main(): Promise<void> {
  parseOrExit('npm run db:reset', process.argv.slice(2), { usage: USAGE, options: {} })
  const running = readLiveState()
  if (running) {
    fail(`Matchbox is running (pid ${running.pid}): stop it with Ctrl-C first, then reset`)
  }
  const externalUrl = process.env.SUPABASE_DB_URL
  if (externalUrl) {
    await bootstrapDatabase(externalUrl)
    await supabaseCli(['db', 'reset', `--remote=${externalUrl}`, '--yes'], {
      env: databaseEnv(externalUrl),
    })
    // The reset drops schemas the bootstrap made; make them again.
    await bootstrapDatabase(externalUrl)
    console.log(`reset ${redact(externalUrl)}: migrations applied afresh`)
    return
  }
  const dataDir = process.env.MATCHBOX_DATA_DIR || DEFAULT_DATA_DIR
  rmSync(dataDir, { recursive: true, force: true })
  const db = await startEmbeddedDb({ dataDir, port: await freePort() })
  try {
    await prepareDatabase(db.url)
  } finally {
    await db.stop()
  }
  console.log(`reset the embedded database in ${dataDir}: migrations applied afresh`)
}

function fail(message: string): never {
  console.error(`npm run db:reset: ${message}`)
  process.exit(1)
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
