/**
 * `npm run collection:new -- <name> --dimensions <n> [--type vector|halfvec|bit|sparsevec]
 *   [--metric cosine|l2|inner_product|l1|hamming|jaccard] [--index hnsw|ivfflat]
 *   [--m 16 --ef-construction 64 | --lists 100]`
 *
 * Writes the collection's migration through `supabase migration new`. Apply it with
 * `npm run db:push` (the running local stack) or `supabase db push` (a hosted project).
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { collectionMigrationSql } from '../cli/collections/migration.ts'
import { CollectionSpecError, parseCollectionSpec } from '../cli/collections/spec.ts'
import { supabaseCli } from '../stack/cli.ts'
import { SUPABASE_DIR } from '../stack/paths.ts'

const USAGE =
  'usage: npm run collection:new -- <name> --dimensions <n> [--type vector|halfvec|bit|sparsevec] [--metric cosine|l2|inner_product|l1|hamming|jaccard] [--index hnsw|ivfflat] [--m 16 --ef-construction 64 | --lists 100]'

/** The names of collections the migrations already create. */
export function existingTables(migrationsDir: string): Set<string> {
  const names = new Set<string>()
  for (const file of readdirSync(migrationsDir).filter((f) => f.endsWith('.sql'))) {
    const sql = readFileSync(path.join(migrationsDir, file), 'utf8')
    for (const match of sql.matchAll(
      /create\s+table\s+(?:if\s+not\s+exists\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi,
    )) {
      names.add(match[1]!.toLowerCase())
    }
  }
  return names
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dimensions: { type: 'string' },
      type: { type: 'string' },
      metric: { type: 'string' },
      index: { type: 'string' },
      m: { type: 'string' },
      'ef-construction': { type: 'string' },
      lists: { type: 'string' },
      workdir: { type: 'string' },
    },
  })
  if (positionals.length !== 1)
    throw new CollectionSpecError(`expected one collection name\n${USAGE}`)
  const spec = parseCollectionSpec({
    name: positionals[0],
    dimensions: values.dimensions,
    type: values.type,
    metric: values.metric,
    index: values.index,
    m: values.m,
    efConstruction: values['ef-construction'],
    lists: values.lists,
  })
  const supabaseDir = values.workdir ? path.join(values.workdir, 'supabase') : SUPABASE_DIR
  if (existingTables(path.join(supabaseDir, 'migrations')).has(spec.name)) {
    throw new CollectionSpecError(
      `a table named "${spec.name}" already exists in supabase/migrations`,
    )
  }
  const workdirArgs = values.workdir ? [`--workdir=${values.workdir}`] : []
  // The CLI names and writes the file; the SQL goes in through its stdin.
  const { stdout, stderr } = await supabaseCli(
    ['migration', 'new', `collection_${spec.name}`, ...workdirArgs],
    {
      input: collectionMigrationSql(spec),
    },
  )
  const created = /Created new migration at (\S+\.sql)/.exec(stdout + stderr)?.[1]
  if (!created)
    throw new Error(`supabase migration new did not say where it wrote:\n${stdout}${stderr}`)
  const file = path.isAbsolute(created) ? created : path.join(path.dirname(supabaseDir), created)
  console.log(
    `wrote ${path.relative(process.cwd(), file)}: ${spec.type}(${spec.dimensions}), ${spec.metric}, ${spec.index}`,
  )
  console.log(
    'apply it with `npm run db:push` (local stack) or `npx supabase db push` (linked project)',
  )
}

main().catch((error: unknown) => {
  if (error instanceof CollectionSpecError) {
    console.error(`npm run collection:new: ${error.message}`)
  } else {
    console.error('npm run collection:new failed:', error instanceof Error ? error.message : error)
  }
  process.exit(1)
})
