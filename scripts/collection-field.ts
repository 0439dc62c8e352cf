/**
 * `npm run collection:field -- <collection> year:number [lang:text …]` (`--help` for more):
 * declares metadata fields of an existing collection in a migration of their own. Apply it
 * with `npm run db:push`; the vectors function sees the new index within 30 seconds.
 */
import path from 'node:path'
import { runCommand } from '../cli/args.ts'
import { collectionField, collectionFieldUsage } from '../cli/collection-field.ts'
import { ROOT } from '../stack/paths.ts'

const COMMAND = 'npm run collection:field'

runCommand(COMMAND, () => {
  const result = collectionField(process.argv.slice(2), {
    command: `${COMMAND} --`,
    projectDir: ROOT,
  })
  if (result === 'help') {
    console.log(collectionFieldUsage(`${COMMAND} --`))
    return
  }
  const fields = result.fields.map((field) => `${field.name} (${field.type})`).join(', ')
  console.log(
    `${result.written ? 'wrote' : 'would write'} ${path.relative(process.cwd(), result.file)}: ${fields}`,
  )
  if (result.written)
    console.log(
      'apply it with `npm run db:push` (local stack) or `npx supabase db push --remote` (your linked project)',
    )
})
