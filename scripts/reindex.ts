/**
 * `npm run collection:reindex -- <name> [--concurrently] [--maintenance-work-mem 1GB]
 * [--parallel-workers n]`: rebuilds a collection's vector index (cli/reindex.ts) on the running
 * local stack's database, or on SUPABASE_DB_URL / `--db-url`. The package ships the same
 * command as `matchbox collection reindex`.
 */
import { UsageError, runCommand } from '../cli/args.ts'
import { collectionReindex, reindexUsage } from '../cli/reindex.ts'
import { readLiveState } from '../stack/state.ts'

const COMMAND = 'npm run collection:reindex'

runCommand(
  COMMAND,
  async () => {
    const result = await collectionReindex(process.argv.slice(2), {
      command: `${COMMAND} --`,
      dbUrl: process.env.SUPABASE_DB_URL || readLiveState()?.DB_URL,
    })
    if (result === 'help') console.log(reindexUsage(`${COMMAND} --`))
  },
  (error) => error instanceof UsageError,
)
