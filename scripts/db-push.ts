/**
 * `npm run db:push`: applies new migrations (e.g. a collection from `collection:new`) to the
 * running stack's database, or to SUPABASE_DB_URL, with `supabase db push`.
 */
import { parseOrExit } from '../cli/args.ts'
import { pushMigrations } from '../stack/cli.ts'
import { readRunningStatus } from '../stack/state.ts'
import { redact } from '../stack/stack.ts'

const USAGE = `usage: npm run db:push

Applies the migrations in supabase/migrations that the database lacks (\`supabase db push\`):
the running stack's database, or the one at SUPABASE_DB_URL.

  --help    this text`

parseOrExit('npm run db:push', process.argv.slice(2), { usage: USAGE, options: {} })
const dbUrl = process.env.SUPABASE_DB_URL || (await readRunningStatus())?.DB_URL
if (!dbUrl) {
  console.error(
    'npm run db:push: Matchbox is not running and SUPABASE_DB_URL is not set: start it with `npm start`',
  )
  process.exit(1)
}
try {
  const { stdout, stderr } = await pushMigrations(dbUrl)
  const applied = (stdout + stderr).match(/Applying migration \S+/g) ?? []
  console.log(applied.length ? applied.join('\n') : `${redact(dbUrl)} is up to date`)
} catch (error) {
  console.error(`npm run db:push: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
