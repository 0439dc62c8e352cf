/**
 * `matchbox collection reindex <name>`: rebuilds a collection's vector index, with a progress
 * bar from `pg_stat_progress_create_index`, a warning before the build when pgvector's HNSW
 * graph will not fit `maintenance_work_mem` (and pgvector's own notice when it stops fitting).
 *
 * With `--concurrently` the new index is built beside the old one (`CREATE INDEX CONCURRENTLY`,
 * same method, operator class and options), so searches and writes go on meanwhile; then the
 * old one is dropped (`DROP INDEX CONCURRENTLY`) and the new one takes its name. A build that
 * fails or is cancelled leaves no invalid index behind. Without it, `REINDEX INDEX` rebuilds in
 * place and blocks writes (and searches that use the index) until it is done.
 */
import postgres from 'postgres'
import { readCollection } from '../supabase/functions/vectors/shape.ts'
import { parseCommand, UsageError } from './args.ts'

/** What `collectionReindex` did. */
export interface ReindexResult {
  collection: string
  index: string
  concurrently: boolean
  rows: number
  seconds: number
  /** pgvector's notices during the build (e.g. the graph no longer fitting in memory). */
  notices: string[]
}

/** Where the command writes: lines, and a progress bar that redraws in place on a terminal. */
export interface ReindexOutput {
  line(text: string): void
  progress?(text: string): void
}

const OPTIONS = {
  concurrently: { type: 'boolean' },
  'maintenance-work-mem': { type: 'string' },
  'parallel-workers': { type: 'string' },
  'db-url': { type: 'string' },
} as const

/** The usage text, under the name the command is run by. */
export function reindexUsage(command: string): string {
  return `usage: ${command} <name> [--concurrently] [--maintenance-work-mem 1GB] [--parallel-workers n] [--db-url <url>]

Rebuilds the vector index of the collection <name> with the same method, operator class and
options, showing progress.

  --concurrently              build a new index beside the old one (CREATE INDEX CONCURRENTLY),
                              then swap it in: searches and writes go on meanwhile. Without it,
                              REINDEX rebuilds in place and blocks writes until it is done
  --maintenance-work-mem <m>  memory for the build, e.g. 1GB (this session only); an HNSW build
                              is much slower once its graph no longer fits
  --parallel-workers <n>      max_parallel_maintenance_workers for the build (0 to 64)
  --db-url <url>              the database (default: SUPABASE_DB_URL); a direct or session
                              connection, not a transaction pooler
  --help                      this text`
}

/**
 * Runs the command on `argv` (after `collection reindex`).
 *
 * @throws UsageError for bad arguments, a missing collection or index, or a pooler URL.
 * @example
 * await collectionReindex(['docs', '--concurrently'], { command: 'matchbox collection reindex', dbUrl })
 */
export async function collectionReindex(
  argv: readonly string[],
  options: { command: string; dbUrl?: string; output?: ReindexOutput },
): Promise<ReindexResult | 'help'> {
  const { values, positionals, help } = parseCommand(argv, {
    usage: reindexUsage(options.command),
    options: OPTIONS,
    positionals: { min: 1, max: 1 },
  })
  if (help) return 'help'
  const dbUrl = values['db-url'] ?? options.dbUrl ?? process.env.SUPABASE_DB_URL
  if (!dbUrl) {
    throw new UsageError('no database: pass --db-url <url> or set SUPABASE_DB_URL')
  }
  refusePooler(dbUrl)
  const workers = values['parallel-workers']
  if (workers !== undefined && !/^\d+$/.test(workers)) {
    throw new UsageError(
      `--parallel-workers must be a whole number, not ${JSON.stringify(workers)}`,
    )
  }
  return await reindex(dbUrl, positionals[0]!, {
    concurrently: values.concurrently === true,
    maintenanceWorkMem: values['maintenance-work-mem'],
    parallelWorkers: workers === undefined ? undefined : Number(workers),
    output: options.output ?? consoleOutput(),
  })
}

/** How to rebuild: what `collectionReindex` parses from the command line. */
export interface ReindexOptions {
  concurrently: boolean
  maintenanceWorkMem?: string
  parallelWorkers?: number
  output: ReindexOutput
}

/** Rebuilds the vector index of the collection `name` on the database at `dbUrl`. */
export async function reindex(
  dbUrl: string,
  name: string,
  options: ReindexOptions,
): Promise<ReindexResult> {
  const notices: string[] = []
  const { output } = options
  // One connection builds (its session carries the settings); another watches the progress.
  const sql = postgres(dbUrl, {
    max: 1,
    onnotice: (notice) => {
      if (
        notice.severity === 'NOTICE' &&
        /hnsw|ivfflat|maintenance_work_mem/.test(notice.message ?? '')
      ) {
        const text = [notice.message, notice.detail, notice.hint].filter(Boolean).join(' ')
        notices.push(text)
        output.line(`pgvector: ${text}`)
      }
    },
  })
  const watcher = postgres(dbUrl, { max: 1, onnotice: () => {} })
  try {
    const collection = await readCollection(sql, name)
    if (!collection) throw new UsageError(`no collection named ${JSON.stringify(name)}`)
    if (!collection.indexName || !collection.index) {
      throw new UsageError(
        `collection "${name}" has no vector index to rebuild: create one with a migration (collection new --index hnsw)`,
      )
    }
    await applySettings(sql, options)
    const [table] = await sql`
      select c.oid::text as oid, greatest(c.reltuples, 0)::float8 as estimate,
        pg_catalog.pg_size_bytes(pg_catalog.current_setting('maintenance_work_mem')) as memory,
        pg_catalog.pg_get_indexdef(i.oid) as definition,
        (select pg_catalog.split_part(o, '=', 2)::int from pg_catalog.unnest(i.reloptions) o
          where o like 'm=%') as m
      from pg_catalog.pg_class c, pg_catalog.pg_class i
      where c.oid = ${collection.table}::regclass and i.oid = ${`public.${collection.indexName}`}::regclass`
    let rows = Number(table!.estimate)
    if (rows <= 0) {
      // Never analyzed: count, since the estimate and the bar need a total.
      const [counted] = await sql.unsafe(`select count(*)::float8 as n from ${collection.table}`)
      rows = Number(counted?.n ?? 0)
    }
    if (collection.index === 'hnsw') {
      const needed = hnswGraphBytes(rows, table!.m ?? 16, valueBytes(collection))
      const memory = Number(table!.memory)
      output.line(
        `${collection.indexName}: hnsw over ~${rows.toLocaleString('en')} rows; the graph needs about ${formatBytes(needed)}, maintenance_work_mem is ${formatBytes(memory)}`,
      )
      if (needed > memory) {
        output.line(
          `warning: the graph will not fit in maintenance_work_mem: past that, pgvector builds on disk and takes much longer; pass --maintenance-work-mem ${suggestMemory(needed)} if the server has that memory to spare`,
        )
      }
    }
    const started = performance.now()
    const watching = watchProgress(watcher, table!.oid, rows, output)
    try {
      if (options.concurrently) {
        await buildBesideAndSwap(sql, collection.indexName, table!.definition, output)
      } else {
        output.line(
          `rebuilding ${collection.indexName} in place (REINDEX: writes wait until it is done)`,
        )
        await sql.unsafe(`reindex index public.${quoteIdent(collection.indexName)}`)
      }
    } finally {
      watching.stop()
      await watching.done
    }
    const seconds = (performance.now() - started) / 1000
    output.line(`${collection.indexName} rebuilt in ${seconds.toFixed(1)} s`)
    return {
      collection: name,
      index: collection.indexName,
      concurrently: options.concurrently,
      rows,
      seconds,
      notices,
    }
  } finally {
    await sql.end()
    await watcher.end()
  }
}

/** `maintenance_work_mem` and the parallel workers, for this session only. */
async function applySettings(sql: postgres.Sql, options: ReindexOptions): Promise<void> {
  try {
    if (options.maintenanceWorkMem !== undefined) {
      await sql`select pg_catalog.set_config('maintenance_work_mem', ${options.maintenanceWorkMem}, false)`
    }
    if (options.parallelWorkers !== undefined) {
      await sql`select pg_catalog.set_config('max_parallel_maintenance_workers', ${String(options.parallelWorkers)}, false)`
    }
  } catch (error) {
    throw new UsageError(`the database refused a setting: ${(error as Error).message}`)
  }
}

/**
 * Builds `<index>_new` concurrently from the old index's own definition, then drops the old
 * one concurrently and renames the new one. Neither step blocks searches or writes; between
 * them both indexes are valid, so a search finds one at every moment.
 */
async function buildBesideAndSwap(
  sql: postgres.Sql,
  index: string,
  definition: string,
  output: ReindexOutput,
): Promise<void> {
  const fresh = `${index.slice(0, 59)}_new`
  const match = /^CREATE (UNIQUE )?INDEX ("(?:[^"]|"")+"|\S+) ON /.exec(definition)
  if (!match) throw new Error(`unexpected index definition: ${definition}`)
  const build = definition.replace(
    match[0],
    `CREATE ${match[1] ?? ''}INDEX CONCURRENTLY ${quoteIdent(fresh)} ON `,
  )
  // A build interrupted before (Ctrl-C, a crash) may have left an invalid one of that name.
  await sql.unsafe(`drop index concurrently if exists public.${quoteIdent(fresh)}`)
  output.line(
    `building ${fresh} beside ${index} (CREATE INDEX CONCURRENTLY: searches and writes go on)`,
  )
  try {
    await sql.unsafe(build)
  } catch (error) {
    // A failed concurrent build leaves its index behind, invalid: not this one.
    await sql
      .unsafe(`drop index concurrently if exists public.${quoteIdent(fresh)}`)
      .catch(() => {})
    throw new Error(`the build failed and was cleaned up: ${(error as Error).message}`)
  }
  await sql.unsafe(`drop index concurrently public.${quoteIdent(index)}`)
  await sql.unsafe(`alter index public.${quoteIdent(fresh)} rename to ${quoteIdent(index)}`)
  output.line(`swapped: ${fresh} is now ${index}, the old index is dropped`)
}

/** Polls the build's progress every half second and draws it, until stopped. */
function watchProgress(
  sql: postgres.Sql,
  tableOid: string,
  rows: number,
  output: ReindexOutput,
): { stop(): void; done: Promise<void> } {
  let stopped = false
  let lastLine = ''
  const done = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      if (stopped) break
      const [row] = await sql`
        select phase, tuples_done::float8 as done, tuples_total::float8 as total
        from pg_catalog.pg_stat_progress_create_index where relid = ${tableOid}::oid`.catch(
        () => [],
      )
      if (!row) continue
      const total = Number(row.total) > 0 ? Number(row.total) : rows
      const line = progressLine(String(row.phase), Number(row.done), total)
      if (output.progress) output.progress(line)
      else if (line.replace(/\d+%.*/, '') !== lastLine.replace(/\d+%.*/, '')) output.line(line)
      lastLine = line
    }
    if (output.progress && lastLine) output.progress('')
  })()
  return {
    stop: () => {
      stopped = true
    },
    done,
  }
}

/** `[#######.............]  35% building index: loading tuples 35,000/100,000`. */
export function progressLine(phase: string, done: number, total: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 0
  const width = 20
  const filled = Math.round(share * width)
  const counts = done > 0 ? ` ${done.toLocaleString('en')}/${total.toLocaleString('en')}` : ''
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${phase}${counts}`
}

/**
 * Bytes pgvector's in-memory HNSW graph takes for `rows` vectors of `valueBytes` each, from the
 * structures it allocates per element (src/hnsw.h, pgvector 0.8): the element (128 bytes), its
 * list of layers, a neighbor array of `2m` 16-byte candidates on layer 0 and `m` on each layer
 * above (1/(m-1) of them on average, with pgvector's level multiplier 1/ln m), the value, and
 * the memory context's 16-byte header on each allocation.
 */
export function hnswGraphBytes(rows: number, m: number, valueBytes: number): number {
  const header = 16
  const upperLayers = 1 / (m - 1)
  const perVector =
    128 +
    header +
    (8 * (1 + upperLayers) + header) +
    (8 + 16 * 2 * m + header) +
    upperLayers * (8 + 16 * m + header) +
    (valueBytes + header)
  return Math.ceil(rows * perVector)
}

/** The stored size of one value of the collection's type (pgvector's README, "Reference"). */
function valueBytes(collection: { type: string; dimensions: number }): number {
  const d = collection.dimensions
  if (collection.type === 'halfvec') return 8 + 2 * d
  if (collection.type === 'bit') return 8 + Math.ceil(d / 8)
  return 8 + 4 * d // vector; a sparsevec is at most this
}

function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** A round `maintenance_work_mem` above `bytes`, as Postgres reads it. */
function suggestMemory(bytes: number): string {
  const mb = Math.ceil((bytes * 1.1) / 1024 ** 2)
  return mb >= 1024 ? `${Math.ceil(mb / 1024)}GB` : `${Math.ceil(mb / 64) * 64}MB`
}

/** Refuses a transaction pooler: the settings are per session, and so is a concurrent build. */
function refusePooler(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('--db-url is not a URL: postgresql://user:password@host:5432/postgres')
  }
  if (parsed.port === '6543' || parsed.searchParams.get('pgbouncer') === 'true') {
    throw new UsageError(
      'that URL is a transaction pooler: reindex needs a session of its own, use the direct connection (port 5432)',
    )
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function consoleOutput(): ReindexOutput {
  const tty = process.stderr.isTTY
  return {
    line: (text) => {
      if (tty) process.stderr.write('\r\x1b[K')
      console.log(text)
    },
    progress: tty ? (text) => process.stderr.write(`\r\x1b[K${text}`) : undefined,
  }
}
