/**
 * The benchmark's own database, readied as for the app and then resized: the normal bootstrap
 * and `supabase db push`, then, with `public.items` still empty, its embedding column set to
 * the dataset's dimension. The functions read the dimension from the catalog and Postgres
 * ignores typmods in function signatures, so `match_items` and both functions serve the
 * resized table unchanged: the same code path, only the column's dimension differs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import postgres from 'postgres'
import { collectionMigrationSql } from '../cli/collections/migration.ts'
import { parseCollectionSpec } from '../cli/collections/spec.ts'
import { stopChild } from '../stack/functions-server.ts'
import { recreateDatabase } from '../stack/native-postgres.ts'
import { ROOT } from '../stack/paths.ts'
import { freePort } from '../stack/ports.ts'
import { prepareDatabase } from '../stack/prepare.ts'
import { operatorClass } from '../supabase/functions/_shared/vector-kinds.ts'
import {
  type Dataset,
  type DatasetSpec,
  type Metric,
  PGVECTOR_METRIC,
  row,
  vectorText,
} from './dataset.ts'

/** Where the benchmark runs: native PostgreSQL, or the embedded PGlite `npm start` uses. */
export type Tier = 'native' | 'pglite'

/*
 * On PGlite all connections share one session, served one protocol message at a time, and a
 * connection's messages are kept together only inside a transaction block. So the benchmark
 * sends nothing but transactions there (settings per connection are ignored, and statements
 * outside a transaction from two connections could interleave).
 */

/** The benchmark's database, ready for `public.items` to be resized. */
export interface BenchDatabase {
  tier: Tier
  url: string
  /** The database server's process, when the benchmark started it (PGlite). */
  process?: ChildProcess
  stop(): Promise<void>
}

/** The native database the benchmark recreates on each run; one per data source. */
export function nativeDatabaseName(spec: DatasetSpec): string {
  return spec.source ? `matchbox_bench_${spec.source.replace(/-/g, '_')}` : 'matchbox_bench'
}

/**
 * A fresh migrated database for `spec` on the native server at `serverUrl`; with `reuseKey`,
 * the one a run with `--reuse` left loaded for the same key, when there is one (then
 * `loaded` is true and nothing was recreated).
 */
export async function openNativeDatabase(
  serverUrl: string,
  spec: DatasetSpec,
  reuseKey?: string,
): Promise<BenchDatabase & { loaded: boolean }> {
  const name = nativeDatabaseName(spec)
  if (reuseKey) {
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    if (await loadedFor(url.toString(), reuseKey)) {
      return { tier: 'native', url: url.toString(), stop: async () => {}, loaded: true }
    }
  }
  const url = await recreateDatabase(serverUrl, name)
  await prepareDatabase(url)
  return { tier: 'native', url, stop: async () => {}, loaded: false }
}

/** Whether the database at `url` holds the rows loaded for `key` (`markLoaded`). */
async function loadedFor(url: string, key: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    const rows = await sql`select key from public.bench_loaded where key = ${key}`
    return rows.length === 1
  } catch {
    return false // no such database, or never marked
  } finally {
    await sql.end()
  }
}

/** Records that the rows and indexes for `key` are loaded, for a later `--reuse`. */
export async function markLoaded(sql: postgres.Sql, key: string): Promise<void> {
  await sql`create table if not exists public.bench_loaded (key text primary key)`
  await sql`delete from public.bench_loaded`
  await sql`insert into public.bench_loaded (key) values (${key})`
}

/**
 * A fresh embedded database in a temporary folder, served by a process of its own on a free
 * port, migrated; `stop` ends the process and removes the folder.
 */
export async function openEmbeddedDatabase(): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-bench-'))
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'bench', 'embedded-db.ts'),
      dataDir,
      String(await freePort()),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const stop = async () => {
    await stopChild(child)
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{"ready":true')) resolve((JSON.parse(line) as { url: string }).url)
      })
      child.once('exit', (code) => reject(new Error(`the embedded database exited (${code})`)))
    })
    await prepareDatabase(url)
    return { tier: 'pglite', url, process: child, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** A connection for the benchmark's own statements (loading, index builds, settings). */
export function adminConnection(url: string): postgres.Sql {
  return postgres(url, {
    max: 1,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: 'matchbox-bench' },
  })
}

/**
 * Gives the empty `public.items` the dataset's dimension, without its HNSW index (loads are
 * timed with and without it, and the build on its own).
 */
export async function resizeItems(sql: postgres.Sql, dimensions: number): Promise<void> {
  const [{ rows }] = (await sql`select count(*)::int as rows from public.items`) as unknown as [
    { rows: number },
  ]
  if (rows !== 0) throw new Error('public.items must be empty to be resized')
  await sql`drop index if exists public.items_embedding_hnsw_idx`
  await sql.unsafe(
    `alter table public.items alter column embedding type extensions.vector(${Number(dimensions)})`,
  )
}

/** Empties `public.items` and restarts its ids at 1. */
export async function emptyItems(sql: postgres.Sql): Promise<void> {
  await sql`truncate public.items restart identity`
}

/**
 * Builds `items_embedding_hnsw_idx` as the migration does (m 16, ef_construction 64) with the
 * operator class of `metric`; answers the milliseconds it took.
 */
export async function buildIndex(sql: postgres.Sql, metric: Metric): Promise<number> {
  const started = performance.now()
  await sql.unsafe(
    `create index items_embedding_hnsw_idx on public.items
     using hnsw (embedding extensions.${operatorClass('vector', PGVECTOR_METRIC[metric])})
     with (m = 16, ef_construction = 64)`,
  )
  return performance.now() - started
}

/** Drops the HNSW index. */
export async function dropIndex(sql: postgres.Sql): Promise<void> {
  await sql`drop index if exists public.items_embedding_hnsw_idx`
}

/**
 * Loads rows `from` to `to` (exclusive) of the dataset as ids `from + 1` … with `COPY … FROM
 * STDIN` in text format, the fastest way in; answers the milliseconds the database took. The
 * text is made before the clock starts, as a file to load would be.
 *
 * PGlite's socket server does not take COPY FROM STDIN (it waits forever), so there the rows
 * go in as INSERTs of 1000 rows each (`unnest` of two array parameters), the fastest way that
 * works.
 */
export async function loadRows(
  sql: postgres.Sql,
  tier: Tier,
  dataset: Dataset,
  from: number,
  to: number,
  table: LoadTable = ITEMS,
): Promise<number> {
  const dimensions = dataset.spec.dimensions
  let ms: number
  if (tier === 'native') {
    const chunks = copyChunks(dataset, from, to)
    const started = performance.now()
    const writable = await sql.unsafe(`copy ${table.name} (id, embedding) from stdin`).writable()
    await pipeline(Readable.from(chunks), writable)
    ms = performance.now() - started
  } else {
    const batches: { ids: number[]; texts: string[] }[] = []
    for (let start = from; start < to; start += 1000) {
      const batch = { ids: [] as number[], texts: [] as string[] }
      for (let i = start; i < Math.min(to, start + 1000); i++) {
        batch.ids.push(i + 1)
        batch.texts.push(vectorText(row(dataset.vectors, dimensions, i)))
      }
      batches.push(batch)
    }
    const started = performance.now()
    for (const { ids, texts } of batches) {
      await sql.unsafe(
        `insert into ${table.name} (id, embedding)
        select * from unnest($1::${table.idType}[], $2::text[]::extensions.vector[])`,
        [ids, texts] as never[],
      )
    }
    ms = performance.now() - started
  }
  // Later inserts through the function draw ids after the loaded ones.
  if (table === ITEMS) {
    await sql`select setval(pg_get_serial_sequence('public.items', 'id'), greatest(${to}, 1))`
  }
  return ms
}

/** A table rows are loaded into: `public.items` (bigint ids) or a collection (text ids). */
export interface LoadTable {
  name: string
  idType: 'bigint' | 'text'
}

const ITEMS: LoadTable = { name: 'public.items', idType: 'bigint' }

/** The collection the `vectors` layer queries, with the rows of `public.items`. */
export const BENCH_COLLECTION = 'bench_vectors'

/**
 * Creates the collection `BENCH_COLLECTION` with the dataset's dimension and metric, as
 * `collection:new`'s migration does, and loads every row into it as `public.items` has them
 * (id `i + 1`, as text): with no index, then its index built from the migration's definition.
 */
export async function loadCollection(
  sql: postgres.Sql,
  tier: Tier,
  dataset: Dataset,
  log: (line: string) => void,
): Promise<{ loadMs: number; indexBuildMs: number }> {
  const { dimensions, metric, count } = dataset.spec
  const spec = parseCollectionSpec({
    name: BENCH_COLLECTION,
    dimensions,
    metric: PGVECTOR_METRIC[metric],
  })
  await sql.unsafe(collectionMigrationSql(spec))
  const index = `public.${BENCH_COLLECTION}_embedding_idx`
  const [{ definition }] = (await sql`
    select pg_get_indexdef(${index}::regclass) as definition`) as unknown as [
    { definition: string },
  ]
  await sql.unsafe(`drop index ${index}`)
  const loadMs = await loadRows(sql, tier, dataset, 0, count, {
    name: `public.${BENCH_COLLECTION}`,
    idType: 'text',
  })
  log(`  collection ${BENCH_COLLECTION}: ${count} rows, no index: ${(loadMs / 1000).toFixed(1)} s`)
  const started = performance.now()
  await sql.unsafe(definition)
  const indexBuildMs = performance.now() - started
  log(`  collection ${BENCH_COLLECTION}: HNSW index build: ${(indexBuildMs / 1000).toFixed(1)} s`)
  await sql.unsafe(`vacuum analyze public.${BENCH_COLLECTION}`)
  return { loadMs, indexBuildMs }
}

/** COPY's text format for rows `from` to `to`, in chunks of about 1 MiB. */
function copyChunks(dataset: Dataset, from: number, to: number): string[] {
  const dimensions = dataset.spec.dimensions
  const chunks: string[] = []
  let lines: string[] = []
  let size = 0
  for (let i = from; i < to; i++) {
    const line = `${i + 1}\t${vectorText(row(dataset.vectors, dimensions, i))}\n`
    lines.push(line)
    size += line.length
    if (size > 1 << 20) {
      chunks.push(lines.join(''))
      lines = []
      size = 0
    }
  }
  if (lines.length) chunks.push(lines.join(''))
  return chunks
}

/** The server's PostgreSQL and pgvector versions, for the report. */
export async function serverVersions(
  sql: postgres.Sql,
): Promise<{ postgres: string; pgvector: string }> {
  const [versions] = await sql`
    select current_setting('server_version') as postgres,
      (select extversion from pg_extension where extname = 'vector') as pgvector`
  return { postgres: String(versions!.postgres), pgvector: String(versions!.pgvector) }
}
