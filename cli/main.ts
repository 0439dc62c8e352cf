#!/usr/bin/env node
/**
 * The package's command, `matchbox` (also `matchbox-vectors`, the package's name, so that
 * `npx matchbox-vectors init` can never fetch the unrelated `matchbox` package):
 *
 *   matchbox init [--workdir <dir>] [--dry-run]
 *   matchbox collection new <name> --dimensions <n> [options]
 *   matchbox collection field <collection> <name:type>…
 *   matchbox collection reindex <name> [--concurrently] [--db-url <url>]
 */
/// <reference types="node" />
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseCommand, runCommand, UsageError } from './args.ts'
import { collectionField, collectionFieldUsage } from './collection-field.ts'
import { collectionNew, collectionNewUsage, describeCollectionNew } from './collection-new.ts'
import { CollectionSpecError } from './collections/spec.ts'
import { applyInit, InitError, MATCHBOX_FUNCTIONS, type PlannedFile, planInit } from './init.ts'

const COMMAND = 'matchbox'

const USAGE = `usage: ${COMMAND} <command> [options]

  init                    add Matchbox's migrations, edge functions and their config.toml
                          entries to the Supabase project here (--workdir <dir>, --dry-run)
  collection new <name>   write a collection's migration (--dimensions <n>; --help for all)
  collection field <collection> <name:type>…
                          declare metadata fields of a collection, with an index each
  collection reindex <name>
                          rebuild a collection's vector index (--db-url <url>, --concurrently)
  --version               the package's version
  --help                  this text

Run it through the installed package: \`npm i -D matchbox-vectors\`, then \`npx matchbox-vectors init\`
(or \`npx matchbox-vectors init\`). A bare \`npx matchbox\` outside such a project runs an
unrelated package of that name.`

const INIT_USAGE = `usage: ${COMMAND} init [--workdir <dir>] [--dry-run]

Adds Matchbox to the Supabase project in the current folder (the one with supabase/config.toml):
  supabase/migrations/<fresh timestamp>_matchbox_*.sql   after the project's last migration
  supabase/functions/{${MATCHBOX_FUNCTIONS.join(',')}}/            the edge functions
  supabase/functions/_matchbox/                          their shared code (your _shared is not touched)
  [functions.*] in supabase/config.toml
Writes nothing if any of these exists with other content; running it again changes nothing.

  --workdir <dir>   the project folder (default: here)
  --dry-run         list the writes, write nothing
  --help            this text`

/** The package's root: the folder with its package.json, from src (cli/) or the build (dist/cli/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('cannot find the package folder of the matchbox command')
    dir = parent
  }
  return dir
}

function main(argv: string[]): void | Promise<void> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE)
    return
  }
  if (command === '--version' || command === '-v') {
    const { version } = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'))
    console.log(version)
    return
  }
  if (command === 'init') return init(rest)
  if (command === 'collection') {
    const [sub, ...args] = rest
    if (sub === 'new') return collection(args)
    if (sub === 'field') return field(args)
    if (sub === 'reindex') return reindexCollection(args)
    if (sub === undefined || sub === '--help' || sub === '-h') {
      console.log(USAGE)
      return
    }
    throw new UsageError(
      `unknown command "collection ${sub}": valid ones are collection new, collection field, collection reindex`,
    )
  }
  throw new UsageError(
    `unknown command ${JSON.stringify(command)}: valid commands are init, collection new (see --help)`,
  )
}

function init(argv: string[]): void {
  const { values, help } = parseCommand(argv, {
    usage: INIT_USAGE,
    options: { workdir: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  })
  if (help) return console.log(INIT_USAGE)
  const projectDir = path.resolve(values.workdir ?? '.')
  const plan = planInit(projectDir, { supabaseDir: path.join(packageRoot(), 'supabase') })
  if (plan.conflicts.length > 0) {
    throw new InitError(
      `wrote nothing: these exist with other content than Matchbox's:\n${plan.conflicts
        .map((file) => `  ${file}`)
        .join(
          '\n',
        )}\nrename or move them (a function of your own named like one of Matchbox's must be renamed), then run init again`,
    )
  }
  const writes = plan.files.filter((file) => file.action !== 'unchanged')
  const where = path.relative(process.cwd(), projectDir) || '.'
  if (writes.length === 0) {
    console.log(`Matchbox is already in ${where}: nothing to do`)
    return
  }
  const dryRun = values['dry-run'] === true
  if (!dryRun) applyInit(projectDir, plan)
  console.log(
    `${dryRun ? 'would add' : 'added'} Matchbox to ${where}${dryRun ? ' (dry run: nothing written)' : ''}:`,
  )
  for (const line of summarizeWrites(writes, plan.addedFunctions)) console.log(`  ${line}`)
  const unchanged = plan.files.length - writes.length
  if (unchanged > 0) console.log(`  (${unchanged} files already in place, left as they are)`)
  if (dryRun) return
  console.log(`
next steps:
  npx supabase db push --remote              apply the migrations to your linked project
                                             (--remote=<postgres url> for another database)
  npx supabase functions deploy ${MATCHBOX_FUNCTIONS.join(' ')}
  npx matchbox-vectors collection new docs --dimensions 384   a collection, then db push again
in your app: npm i matchbox-vectors, then import { createMatchboxClient } from 'matchbox-vectors'`)
}

/** One line per migration, per function folder and for config.toml. */
function summarizeWrites(writes: PlannedFile[], addedFunctions: string[]): string[] {
  const lines: string[] = []
  const folders = new Map<string, number>()
  for (const file of writes) {
    const folder = /^(supabase\/functions\/[^/]+\/)/.exec(file.path)?.[1]
    if (folder && file.action === 'create') {
      if (!folders.has(folder)) lines.push(folder)
      folders.set(folder, (folders.get(folder) ?? 0) + 1)
    } else if (file.action === 'update') {
      lines.push(`update ${file.path}: [functions.${addedFunctions.join('], [functions.')}]`)
    } else {
      lines.push(`create ${file.path}`)
    }
  }
  return lines.map((line) => {
    const count = folders.get(line)
    return count === undefined ? line : `create ${line} (${count} file${count === 1 ? '' : 's'})`
  })
}

function collection(argv: string[]): void {
  const command = `${COMMAND} collection new`
  const result = collectionNew(argv, { command, projectDir: process.cwd() })
  if (result === 'help') return console.log(collectionNewUsage(command))
  console.log(describeCollectionNew(result))
  if (result.written) {
    console.log(
      'apply it with `npx supabase db push --remote`, then regenerate your database types if you keep them (`npx supabase gen types typescript`)',
    )
  }
}

function field(argv: string[]): void {
  const command = `${COMMAND} collection field`
  const result = collectionField(argv, { command, projectDir: process.cwd() })
  if (result === 'help') return console.log(collectionFieldUsage(command))
  const fields = result.fields.map((f) => `${f.name} (${f.type})`).join(', ')
  const verb = result.written ? 'wrote' : 'would write'
  console.log(`${verb} ${path.relative(process.cwd(), result.file)}: ${fields}`)
  if (result.written) console.log('apply it with `npx supabase db push --remote`')
}

async function reindexCollection(argv: string[]): Promise<void> {
  // Loaded here: only this command needs a database driver.
  const { collectionReindex, reindexUsage } = await import('./reindex.ts')
  const command = `${COMMAND} collection reindex`
  const result = await collectionReindex(argv, { command })
  if (result === 'help') console.log(reindexUsage(command))
}

runCommand(
  COMMAND,
  () => main(process.argv.slice(2)),
  (error) => error instanceof InitError || error instanceof CollectionSpecError,
)
