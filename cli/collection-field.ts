/**
 * `collection field`: declares a metadata field of an existing collection (a btree on its typed
 * value, which equality, range and `$in` filters use), as a migration of its own.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  type DeclaredField,
  declaredFieldSql,
  parseDeclaredFields,
} from '../supabase/functions/vectors/fields.ts'
import { COLLECTION_NAME } from '../supabase/functions/vectors/shape.ts'
import { parseCommand, UsageError } from './args.ts'
import { freshTimestamps } from './migration-files.ts'

/** The usage of `collection field` under the name a user ran it by. */
export function collectionFieldUsage(command: string): string {
  return `usage: ${command} <collection> <name:type> [<name:type> …] [options]

Writes supabase/migrations/<timestamp>_<collection>_fields.sql: a btree index on each field's
typed value (type: number, text or boolean; a dotted name for a nested field), which equality,
range and $in filters on it use. Apply it with \`supabase db push\`.

  --workdir <dir>  the project folder that holds supabase/ (default: here)
  --dry-run        print what would be written, write nothing
  --help           this text`
}

/** What `collection field` did (or, with `--dry-run`, would do). */
export interface CollectionFieldResult {
  collection: string
  fields: DeclaredField[]
  file: string
  sql: string
  written: boolean
}

/**
 * Parses the command line and writes the migration.
 *
 * @throws UsageError naming what is wrong.
 */
export function collectionField(
  argv: readonly string[],
  options: { command: string; projectDir: string; now?: Date },
): CollectionFieldResult | 'help' {
  const { values, positionals, help } = parseCommand(argv, {
    usage: collectionFieldUsage(options.command),
    options: { workdir: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    positionals: { min: 2, max: 17 },
  })
  if (help) return 'help'
  const [collection = '', ...given] = positionals
  if (!COLLECTION_NAME.test(collection)) {
    throw new UsageError(`collection name ${JSON.stringify(collection)} is not a collection's name`)
  }
  let fields: DeclaredField[]
  try {
    fields = parseDeclaredFields(given)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const sql = `-- Declared metadata fields of "${collection}": ${fields.map((f) => `${f.name} (${f.type})`).join(', ')}.
-- Written by \`collection field\`: each index serves equality, range and $in filters on its field.

${fields.map((field) => declaredFieldSql(collection, field)).join('')}`
  const migrationsDir = path.join(
    path.resolve(options.projectDir, values.workdir ?? '.'),
    'supabase',
    'migrations',
  )
  const [version] = freshTimestamps(migrationsDir, 1, options.now)
  const file = path.join(migrationsDir, `${version}_${collection}_fields.sql`)
  if (values['dry-run']) return { collection, fields, file, sql, written: false }
  mkdirSync(migrationsDir, { recursive: true })
  writeFileSync(file, sql, { flag: 'wx' })
  return { collection, fields, file, sql, written: true }
}
