/**
 * `collection new`: writes a collection's migration into a Supabase project, for
 * `npm run collection:new` in this repository and `matchbox collection new` in an app.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseCommand, UsageError } from './args.ts'
import { collectionMigrationSql } from './collections/migration.ts'
import {
  type CollectionInput,
  type CollectionSpec,
  parseCollectionSpec,
} from './collections/spec.ts'
import { freshTimestamps, migrationFiles } from './migration-files.ts'

/** The options of `collection new`, as `parseArgs` takes them. */
export const COLLECTION_NEW_OPTIONS = {
  dimensions: { type: 'string' },
  type: { type: 'string' },
  metric: { type: 'string' },
  index: { type: 'string' },
  m: { type: 'string' },
  'ef-construction': { type: 'string' },
  lists: { type: 'string' },
  access: { type: 'string' },
  text: { type: 'boolean' },
  language: { type: 'string' },
  'index-field': { type: 'string', multiple: true },
  workdir: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const

/** The usage of `collection new` under the name a user ran it by. */
export function collectionNewUsage(command: string): string {
  return `usage: ${command} <name> --dimensions <n> [options]

Writes supabase/migrations/<timestamp>_collection_<name>.sql: the table, its vector index,
row-level security and the match_<name> function. Apply it with \`supabase db push\`.

  --dimensions <n>         length of each vector (required)
  --type <t>               vector (default), halfvec, bit or sparsevec
  --metric <m>             cosine (default; hamming for bit), l2, inner_product, l1, hamming, jaccard
  --index <i>              hnsw (default) or ivfflat
  --m <n>                  hnsw: links per node (default 16)
  --ef-construction <n>    hnsw: build-time candidate list (default 64)
  --lists <n>              ivfflat: number of lists (default 100)
  --access <a>             public (default: anyone reads), owner (each user their rows), tenant
  --text                   also keep a text column with full-text search
  --language <cfg>         the text search configuration (e.g. english)
  --index-field name:type  a metadata field with an index of its own (repeatable)
  --workdir <dir>          the project folder that holds supabase/ (default: here)
  --dry-run                print what would be written, write nothing
  --help                   this text`
}

/** The raw input handed to parseCollectionSpec, with the options spec.ts may not know yet. */
export type CollectionNewInput = CollectionInput & {
  text?: boolean
  language?: string
  indexField?: string[]
}

/** What `collection new` did (or, with `--dry-run`, would do). */
export interface CollectionNewResult {
  spec: CollectionSpec
  /** Absolute path of the migration. */
  file: string
  written: boolean
}

/**
 * Parses the command line, checks the definition and writes the migration.
 *
 * @param projectDir the folder with `supabase/` when `--workdir` is not given.
 * @throws UsageError or CollectionSpecError, with a message for the user.
 */
export function collectionNew(
  argv: readonly string[],
  options: { command: string; projectDir: string; now?: Date },
): CollectionNewResult | 'help' {
  const usage = collectionNewUsage(options.command)
  const { values, positionals, help } = parseCommand(argv, {
    usage,
    options: COLLECTION_NEW_OPTIONS,
    positionals: { min: 1, max: 1 },
  })
  if (help) return 'help'
  const input: CollectionNewInput = {
    name: positionals[0],
    dimensions: values.dimensions,
    type: values.type,
    metric: values.metric,
    index: values.index,
    m: values.m,
    efConstruction: values['ef-construction'],
    lists: values.lists,
    access: values.access,
    text: values.text,
    language: values.language,
    indexField: values['index-field'],
  }
  const spec = parseCollectionSpec(dropUndefined(input))
  const supabaseDir = path.join(path.resolve(options.projectDir, values.workdir ?? '.'), 'supabase')
  const migrationsDir = path.join(supabaseDir, 'migrations')
  if (existingTables(migrationsDir).has(spec.name)) {
    throw new UsageError(`a table named "${spec.name}" already exists in supabase/migrations`)
  }
  const [version] = freshTimestamps(migrationsDir, 1, options.now)
  const file = path.join(migrationsDir, `${version}_collection_${spec.name}.sql`)
  if (values['dry-run']) return { spec, file, written: false }
  mkdirSync(migrationsDir, { recursive: true })
  writeFileSync(file, collectionMigrationSql(spec), { flag: 'wx' })
  return { spec, file, written: true }
}

/** The names of tables the migrations in `migrationsDir` already create. */
export function existingTables(migrationsDir: string): Set<string> {
  const names = new Set<string>()
  for (const file of migrationFiles(migrationsDir)) {
    const sql = readFileSync(path.join(migrationsDir, file), 'utf8')
    for (const match of sql.matchAll(
      /create\s+table\s+(?:if\s+not\s+exists\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi,
    )) {
      names.add(match[1]!.toLowerCase())
    }
  }
  return names
}

/** One line on what was written: `wrote supabase/migrations/…sql: vector(4), l2, ivfflat`. */
export function describeCollectionNew(result: CollectionNewResult, cwd = process.cwd()): string {
  const { spec } = result
  const verb = result.written ? 'wrote' : 'would write'
  const access = spec.access && spec.access !== 'public' ? `, ${spec.access} access` : ''
  return `${verb} ${path.relative(cwd, result.file)}: ${spec.type}(${spec.dimensions}), ${spec.metric}, ${spec.index}${access}`
}

// Options not given stay absent, so that spec.ts sees only what the user typed.
function dropUndefined<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T
}
