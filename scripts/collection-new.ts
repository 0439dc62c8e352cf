/**
 * `npm run collection:new -- <name> --dimensions <n> [options]` (`--help` lists them): writes
 * the collection's migration into supabase/migrations. Apply it with `npm run db:push` (the
 * running local stack) or `supabase db push --remote` (a hosted project). The same command ships in the
 * package as `matchbox collection new` (cli/collection-new.ts).
 */
import { collectionNew, collectionNewUsage, describeCollectionNew } from '../cli/collection-new.ts'
import { runCommand } from '../cli/args.ts'
import { CollectionSpecError } from '../cli/collections/spec.ts'
import { ROOT } from '../stack/paths.ts'

const COMMAND = 'npm run collection:new'

runCommand(
  COMMAND,
  () => {
    const result = collectionNew(process.argv.slice(2), {
      command: `${COMMAND} --`,
      projectDir: ROOT,
    })
    if (result === 'help') {
      console.log(collectionNewUsage(`${COMMAND} --`))
      return
    }
    console.log(describeCollectionNew(result))
    if (!result.written) return
    console.log(
      'apply it with `npm run db:push` (local stack) or `npx supabase db push --remote` (your linked project)',
    )
    console.log('then `npm run types` regenerates src/database.types.ts with the new table')
  },
  (error) => error instanceof CollectionSpecError,
)
