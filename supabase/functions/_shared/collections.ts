/**
 * Collections in the database: finding one and learning its shape from the catalog, and the
 * work of each `vectors` route, run in a transaction as the caller.
 */
import type { z } from 'zod'
import type { Caller } from './auth.ts'
import { asCaller, database, type Transaction } from './db.ts'
import { errorCode } from './database-errors.ts'
import { databaseFailure } from './pool.ts'
import { compileFilter, SqlParams } from './filter.ts'
import { HttpError } from './http.ts'
import { COLLECTION_MARKER } from './collection-marker.ts'
import {
  type IndexMethod,
  type Metric,
  METRIC_OPERATORS,
  METRICS,
  metricOfOperatorClass,
  VECTOR_TYPES,
  type VectorType,
} from './vector-kinds.ts'
import { fromVectorText, toVectorText, type VectorShape } from './vector-values.ts'
import type {
  CollectionDescription,
  DeleteRequest,
  FetchRequest,
  QueryMatch,
  QueryRequest,
  UpsertRequest,
  VectorRecord,
} from './vectors-contract.ts'
import { EXACT_SCAN_THRESHOLD } from './vectors-contract.ts'

export { COLLECTION_MARKER, EXACT_SCAN_THRESHOLD }

/** A collection as the catalog describes it. */
export interface Collection extends VectorShape {
  name: string
  /** `public.<name>`: the name is checked, so it is safe in SQL text. */
  table: string
  /** The column's type as Postgres prints it, e.g. `extensions.vector(384)`, for casts. */
  columnType: string
  metric: Metric
  index: IndexMethod | null
  /** `operator(extensions.<=>)`: the metric's distance operator. */
  operator: string
  /** IVFFlat's list count, for the default number of probes. */
  lists: number | null
}

const NAME = /^[a-z][a-z0-9_]{0,47}$/
const CACHE_MS = 30_000
interface CacheEntry {
  at: number
  collection: Promise<Collection | undefined>
}
const cache = new Map<string, CacheEntry>()

/**
 * The collection called `name`, from a 30-second cache of the catalog (`withCollection` reads
 * it again sooner when the work is refused).
 *
 * @throws HttpError 404 when no such collection exists.
 */
export async function findCollection(name: string): Promise<Collection> {
  return (await lookUp(name)).collection
}

/** The collection and the cache entry it came from. */
async function lookUp(name: string): Promise<{ collection: Collection; entry: CacheEntry }> {
  if (!NAME.test(name)) throw notFound(name)
  let entry = cache.get(name)
  if (!entry || Date.now() - entry.at > CACHE_MS) {
    const fresh: CacheEntry = { at: Date.now(), collection: readCollection(name) }
    cache.set(name, fresh)
    fresh.collection.catch(() => forget(name, fresh))
    entry = fresh
  }
  const collection = await entry.collection
  if (!collection) {
    // Not cached: a collection created a moment ago is found on the next request.
    forget(name, entry)
    throw notFound(name)
  }
  return { collection, entry }
}

/** Drops `entry` from the cache, unless another request has already put a newer one there. */
function forget(name: string, entry: CacheEntry): void {
  if (cache.get(name) === entry) cache.delete(name)
}

/** How old a cached shape must be before a refusal makes the catalog be read again. */
const RECHECK_AFTER_MS = 1_000

/**
 * Runs `work` on the collection called `name`, with its shape from the cache. A collection
 * can be dropped and made again with another dimension, type, metric or index while its old
 * shape is cached; the first sign is the work being refused (a 400 for values that fit the
 * old shape only, or the database not finding what it expects). Then the catalog is read
 * again (for a 400, only once the cached shape is a second old), and if the shape has changed
 * the work runs once more on the new one: it failed whole the first time (one transaction),
 * so nothing is written twice. Requests refused together share one read, and a stream of bad
 * requests costs at most one a second.
 *
 * @throws HttpError 404 when no such collection exists (or no longer does).
 */
export async function withCollection<T>(
  name: string,
  work: (collection: Collection) => Promise<T>,
): Promise<T> {
  const { collection: cached, entry } = await lookUp(name)
  try {
    return await work(cached)
  } catch (error) {
    if (!worthRereading(error, entry.at)) throw error
    forget(name, entry)
    const current = await findCollection(name)
    if (sameShape(current, cached)) throw error
    return await work(current)
  }
}

/** Database refusals that a table changed since its shape was cached would explain. */
const SCHEMA_CHANGED = new Set([
  '42P01', // undefined_table
  '42703', // undefined_column
  '42883', // undefined_function (an operator for another type)
  '42804', // datatype_mismatch
])

/**
 * Whether a refusal is worth a fresh read of the catalog: always when the database could not
 * find what the cached shape promised (else a 500), and for a 400, which may well be the
 * caller's own mistake, only once the cached shape is a second old.
 */
function worthRereading(error: unknown, cachedAt: number): boolean {
  if (error instanceof HttpError)
    return error.status === 400 && Date.now() - cachedAt >= RECHECK_AFTER_MS
  const code = errorCode(error)
  return typeof code === 'string' && SCHEMA_CHANGED.has(code)
}

function sameShape(a: Collection, b: Collection): boolean {
  return (
    a.columnType === b.columnType &&
    a.metric === b.metric &&
    a.index === b.index &&
    a.lists === b.lists
  )
}

async function readCollection(name: string): Promise<Collection | undefined> {
  let rows
  try {
    rows = await database()`
      select
        pg_catalog.format_type(a.atttypid, a.atttypmod) as column_type,
        t.typname as type,
        a.atttypmod as dimensions,
        pg_catalog.obj_description(c.oid, 'pg_class') as comment,
        idx.method,
        idx.opclass,
        idx.lists
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'embedding' and not a.attisdropped
      join pg_catalog.pg_type t on t.oid = a.atttypid
      left join lateral (
        select m.amname as method, o.opcname as opclass,
          (select pg_catalog.split_part(option, '=', 2)::int
           from pg_catalog.unnest(ic.reloptions) as option where option like 'lists=%') as lists
        from pg_catalog.pg_index i
        join pg_catalog.pg_class ic on ic.oid = i.indexrelid
        join pg_catalog.pg_am m on m.oid = ic.relam
        join pg_catalog.pg_opclass o on o.oid = i.indclass[0]
        where i.indrelid = c.oid and i.indkey[0] = a.attnum and i.indisvalid
          and m.amname in ('hnsw', 'ivfflat')
        limit 1
      ) idx on true
      where n.nspname = 'public' and c.relname = ${name} and c.relkind = 'r'
        and pg_catalog.obj_description(c.oid, 'pg_class') like ${COLLECTION_MARKER + '%'}`
  } catch (error) {
    throw databaseFailure(error)
  }
  const row = rows[0]
  if (!row || !(VECTOR_TYPES as readonly string[]).includes(row.type)) return undefined
  const metric: Metric | undefined =
    (row.opclass ? metricOfOperatorClass(String(row.opclass)) : undefined) ??
    declaredMetric(row.comment)
  if (!metric) return undefined
  return {
    name,
    table: `public.${name}`,
    columnType: row.column_type,
    type: row.type as VectorType,
    dimensions: row.dimensions,
    indexed: Boolean(row.method),
    metric,
    index: (row.method as IndexMethod | null) ?? null,
    operator: `operator(extensions.${METRIC_OPERATORS[metric]})`,
    lists: row.lists ?? null,
  }
}

/** The metric written in the marker comment, for a collection whose index was dropped. */
function declaredMetric(comment: string | null): Metric | undefined {
  const declared = /"?metric"?\s*[=:]\s*"?(\w+)/.exec(comment ?? '')?.[1]
  return METRICS.find((metric) => metric === declared)
}

function notFound(name: string): HttpError {
  return new HttpError(404, 'not_found', `collection ${JSON.stringify(name)} not found`)
}

/** Stores records, replacing those with the same id; one statement, all or nothing. */
export async function upsertRecords(
  collection: Collection,
  input: z.output<typeof UpsertRequest>,
  caller: Caller,
): Promise<{ upserted: number }> {
  const ids: string[] = []
  const vectors: string[] = []
  const metadata: string[] = []
  input.records.forEach((record, index) => {
    ids.push(record.id)
    vectors.push(toVectorText(collection, record.values, `records.${index}.values`))
    metadata.push(JSON.stringify(record.metadata ?? {}))
  })
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(
      `insert into ${collection.table} as c (id, embedding, metadata)
       select r.id, r.embedding::${collection.columnType}, r.metadata
       from unnest($1::text[], $2::text[], $3::text[]::jsonb[]) as r(id, embedding, metadata)
       on conflict (id) do update set embedding = excluded.embedding, metadata = excluded.metadata`,
      [ids, vectors, metadata],
    ),
  )
  return { upserted: result.count }
}

/** The records with these ids, in the order asked; missing ids are left out. */
export async function fetchRecords(
  collection: Collection,
  input: z.output<typeof FetchRequest>,
  caller: Caller,
): Promise<{ records: VectorRecord[] }> {
  const rows = await asCaller(caller, (tx) =>
    tx.unsafe(
      `select c.id, c.embedding::text as values, c.metadata from ${collection.table} as c where c.id = any($1::text[])`,
      [input.ids],
    ),
  )
  const byId = new Map(rows.map((row) => [row.id as string, row]))
  const records: VectorRecord[] = []
  for (const id of new Set(input.ids)) {
    const row = byId.get(id)
    if (row)
      records.push({
        id,
        values: fromVectorText(collection.type, row.values),
        metadata: row.metadata,
      })
  }
  return { records }
}

/** Deletes by ids or by a (non-empty) filter; answers how many rows went. */
export async function deleteRecords(
  collection: Collection,
  input: z.output<typeof DeleteRequest>,
  caller: Caller,
): Promise<{ deleted: number }> {
  const params = new SqlParams()
  const condition =
    'ids' in input
      ? `c.id = any(${params.add(input.ids, 'text[]')})`
      : compileFilter(input.filter, 'c.metadata', params)
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(`delete from ${collection.table} as c where ${condition}`, params.values as never[]),
  )
  return { deleted: result.count }
}

/** The collection's shape and its row count as the caller sees it. */
export async function describeCollection(
  collection: Collection,
  caller: Caller,
): Promise<CollectionDescription> {
  const [row] = await asCaller(caller, (tx) =>
    tx.unsafe(`select count(*)::bigint as count from ${collection.table}`),
  )
  return {
    name: collection.name,
    dimensions: collection.dimensions,
    type: collection.type,
    metric: collection.metric,
    index: collection.index,
    count: Number(row!.count),
  }
}

/** How a query ran, for callers that want to know (the playground, tests, benchmarks). */
export type ScanUsed = 'index' | 'exact'

/**
 * The topK records nearest to the query vector, nearest first, among those the filter lets
 * through. With a filter, pgvector's iterative index scan keeps walking the index until topK
 * rows pass it; when few rows match, an exact scan of them is taken instead; and when the
 * index walk still comes back short, the exact scan fills in, so a query returns topK rows
 * whenever at least topK rows match.
 */
export async function queryCollection(
  collection: Collection,
  input: z.output<typeof QueryRequest>,
  caller: Caller,
): Promise<{ matches: QueryMatch[]; scan: ScanUsed; plan?: string[] }> {
  checkTuning(collection, input)
  if (input.explain && caller.role !== 'service_role') {
    throw new HttpError(403, 'forbidden', 'explain: needs the service_role key')
  }
  return await asCaller(caller, async (tx) => {
    const vector =
      input.vector !== undefined
        ? toVectorText(collection, input.vector, 'vector')
        : await storedVector(tx, collection, input.id!)
    const params = new SqlParams()
    const query = params.add(vector, collection.columnType)
    const where = input.filter ? `where ${compileFilter(input.filter, 'c.metadata', params)}` : ''
    await tuneIndexScan(tx, collection, input)

    let scan: ScanUsed = input.scan === 'exact' || !collection.indexed ? 'exact' : 'index'
    if (scan === 'index' && input.scan === 'auto' && input.filter) {
      // Its own parameters: the count does not use the query vector.
      const countParams = new SqlParams()
      const condition = compileFilter(input.filter, 'c.metadata', countParams)
      const [{ n }] = (await tx.unsafe(
        `select count(*)::int as n from (select 1 from ${collection.table} as c where ${condition} limit ${EXACT_SCAN_THRESHOLD}) as s`,
        countParams.values as never[],
      )) as unknown as [{ n: number }]
      if (n < EXACT_SCAN_THRESHOLD) scan = 'exact'
    }
    const limit = params.add(input.topK, 'int')
    const columns = [
      'c.id',
      `c.embedding ${collection.operator} ${query} as distance`,
      input.includeValues ? 'c.embedding::text as values' : '',
      input.includeMetadata ? 'c.metadata' : '',
    ].filter(Boolean)
    // Relaxed iterative scans may return rows slightly out of order: the outer query sorts.
    const sql = `select * from (
        select ${columns.join(', ')} from ${collection.table} as c ${where}
        order by c.embedding ${collection.operator} ${query} limit ${limit}
      ) as found order by found.distance`

    let rows = await runScan(tx, sql, params.values, scan)
    if (scan === 'index' && rows.length < input.topK && input.scan === 'auto') {
      scan = 'exact'
      rows = await runScan(tx, sql, params.values, scan)
    }
    // The plan of the statement that answered, under the same settings, when asked for.
    const plan = input.explain
      ? (await tx.unsafe(`explain ${sql}`, params.values as never[])).map((row) =>
          String(row['QUERY PLAN']),
        )
      : undefined
    const matches = rows.map((row) => {
      const match: QueryMatch = { id: row.id, distance: row.distance }
      if (input.includeValues) match.values = fromVectorText(collection.type, row.values)
      if (input.includeMetadata) match.metadata = row.metadata
      return match
    })
    return plan ? { matches, scan, plan } : { matches, scan }
  })
}

async function runScan(tx: Transaction, sql: string, values: unknown[], scan: ScanUsed) {
  // The scan is chosen, not left to the planner: an exact scan has index scans off (leaving a
  // sequential or GIN bitmap scan and a sort: exact whatever the vector index would say); an
  // index scan has the others off, so the vector index walks in distance order.
  const exact = scan === 'exact' ? 'off' : 'on'
  const other = scan === 'exact' ? 'on' : 'off'
  await tx`select set_config('enable_indexscan', ${exact}, true),
    set_config('enable_seqscan', ${other}, true), set_config('enable_bitmapscan', ${other}, true)`
  return await tx.unsafe(sql, values as never[])
}

function checkTuning(collection: Collection, input: z.output<typeof QueryRequest>): void {
  if (input.efSearch !== undefined && collection.index !== 'hnsw') {
    throw new HttpError(
      400,
      'invalid_request',
      `efSearch: applies to hnsw indexes; "${collection.name}" has ${collection.index ?? 'none'}: use probes`,
    )
  }
  if (input.probes !== undefined && collection.index !== 'ivfflat') {
    throw new HttpError(
      400,
      'invalid_request',
      `probes: applies to ivfflat indexes; "${collection.name}" has ${collection.index ?? 'none'}: use efSearch`,
    )
  }
}

/** Sets this transaction's index search knobs: the caller's, or sensible defaults. */
async function tuneIndexScan(
  tx: Transaction,
  collection: Collection,
  input: z.output<typeof QueryRequest>,
): Promise<void> {
  if (collection.index === 'hnsw') {
    const efSearch = String(input.efSearch ?? Math.max(40, input.topK))
    await tx`select set_config('hnsw.ef_search', ${efSearch}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`
  } else if (collection.index === 'ivfflat') {
    // pgvector's advice for a start: probes = sqrt(lists).
    const probes = String(
      input.probes ?? Math.max(1, Math.round(Math.sqrt(collection.lists ?? 100))),
    )
    await tx`select set_config('ivfflat.probes', ${probes}, true), set_config('ivfflat.iterative_scan', 'relaxed_order', true)`
  }
}

async function storedVector(tx: Transaction, collection: Collection, id: string): Promise<string> {
  const [row] = await tx.unsafe(
    `select c.embedding::text as values from ${collection.table} as c where c.id = $1`,
    [id],
  )
  if (!row)
    throw new HttpError(
      404,
      'not_found',
      `record ${JSON.stringify(id)} not found in "${collection.name}"`,
    )
  return row.values
}
