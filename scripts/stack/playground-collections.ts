/**
 * What the playground reads from the database: the collections it can show, described from
 * the catalog (type, dimensions, vector index and its metric), their rows, and the plan of
 * a search. The page inserts and searches through the SDK; only these reads come here.
 *
 * Today there is one collection, the tutorial's `items`. The registry below is the one
 * place that will list more, so the page and the routes need not change when it does.
 */
import type postgres from 'postgres'
import type { CollectionInfo, ExplainResponse, Metric, Row } from '../../playground/types.ts'
import { explainFunctionQuery } from '../explain.ts'

/** A collection as the playground knows it before asking the catalog. */
export interface CollectionSource {
  name: string
  table: string
  column: string
  /** The SQL search function's signature, for EXPLAIN, as `regprocedure` reads it. */
  searchFunction: string
}

/** The collections the playground lists. */
export const COLLECTIONS: readonly CollectionSource[] = [
  {
    name: 'items',
    table: 'public.items',
    column: 'embedding',
    searchFunction: 'public.match_items(extensions.vector, int)',
  },
]

/** Most rows one `GET /api/rows` answers: more would not help a scatter or a table. */
export const MAX_ROWS = 1000

/** The `limit` of `GET /api/rows` when none is given. */
export const DEFAULT_ROWS = 500

// pgvector's operator classes end in the metric's short name (`vector_cosine_ops`).
const OPCLASS_METRICS: Readonly<Record<string, Metric>> = {
  cosine_ops: 'cosine',
  l2_ops: 'l2',
  ip_ops: 'inner_product',
  l1_ops: 'l1',
  hamming_ops: 'hamming',
  jaccard_ops: 'jaccard',
}

/** The registered collection called `name`, if there is one. */
export function findCollection(name: string): CollectionSource | undefined {
  return COLLECTIONS.find((collection) => collection.name === name)
}

/**
 * Describes each registered collection from the catalog; one whose table does not exist
 * (not yet migrated) is left out.
 *
 * @example
 * const [items] = await describeCollections(sql) // { name: 'items', dimensions: 3, metric: 'cosine', … }
 */
export async function describeCollections(sql: postgres.Sql): Promise<CollectionInfo[]> {
  const described: CollectionInfo[] = []
  for (const source of COLLECTIONS) {
    const info = await describeCollection(sql, source)
    if (info) described.push(info)
  }
  return described
}

/** One collection from the catalog, or undefined if its table or column is missing. */
export async function describeCollection(
  sql: postgres.Sql,
  source: CollectionSource,
): Promise<CollectionInfo | undefined> {
  const [column] = await sql<{ type: string; dimensions: number }[]>`
    select pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.atttypmod as dimensions
    from pg_catalog.pg_attribute a
    where a.attrelid = to_regclass(${source.table}) and a.attname = ${source.column}
      and not a.attisdropped`
  if (!column) return undefined
  const [index] = await sql<{ name: string; opclass: string }[]>`
    select i.relname as name, opc.opcname as opclass
    from pg_catalog.pg_index x
    join pg_catalog.pg_class i on i.oid = x.indexrelid
    join pg_catalog.pg_am am on am.oid = i.relam
    join pg_catalog.pg_opclass opc on opc.oid = x.indclass[0]
    join pg_catalog.pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
    where x.indrelid = to_regclass(${source.table}) and a.attname = ${source.column}
      and am.amname in ('hnsw', 'ivfflat')
    order by i.relname
    limit 1`
  const [count] = await sql<
    { rows: number }[]
  >`select count(*)::int as rows from ${sql(source.table)}`
  return {
    name: source.name,
    table: source.table,
    column: source.column,
    type: column.type,
    dimensions: column.dimensions,
    metric: index ? metricOf(index.opclass) : null,
    index: index?.name ?? null,
    rows: count?.rows ?? 0,
  }
}

/** The metric an operator class orders by, e.g. `cosine` for `vector_cosine_ops`. */
export function metricOf(opclass: string): Metric | null {
  const suffix = Object.keys(OPCLASS_METRICS).find((end) => opclass.endsWith(`_${end}`))
  return suffix ? OPCLASS_METRICS[suffix]! : null
}

/** The first `limit` rows of a collection by id, and how many it holds. */
export async function readRows(
  sql: postgres.Sql,
  source: CollectionSource,
  limit: number,
): Promise<{ rows: Row[]; total: number }> {
  const rows = await sql<{ id: string; embedding: string }[]>`
    select id, ${sql(source.column)}::text as embedding
    from ${sql(source.table)}
    order by id
    limit ${limit}`
  const [count] = await sql<
    { total: number }[]
  >`select count(*)::int as total from ${sql(source.table)}`
  return {
    // bigint ids arrive as strings; the SDK answers them as JSON numbers, and so does this.
    rows: rows.map((row) => ({ id: Number(row.id), embedding: JSON.parse(row.embedding) })),
    total: count?.total ?? 0,
  }
}

/**
 * The plan of the collection's search query for `embedding` and `count`, and whether it
 * scans the collection's vector index.
 *
 * Planned as the database owner, not as the page's anon key: the items policies for reading
 * are `using (true)`, which add nothing to the plan.
 */
export async function explainSearch(
  sql: postgres.Sql,
  source: CollectionSource,
  vectorIndex: string | null,
  embedding: readonly number[],
  count: number,
): Promise<ExplainResponse> {
  const plan = await explainFunctionQuery(sql, source.searchFunction, [
    `[${embedding.join(',')}]`,
    count,
  ])
  return { plan, ...indexUse(plan, vectorIndex) }
}

/**
 * Which index a plan scans, and whether that is the vector index.
 *
 * @example
 * indexUse(['Limit', '  ->  Index Scan using items_embedding_hnsw_idx on items'], 'items_embedding_hnsw_idx')
 * // { indexUsed: true, index: 'items_embedding_hnsw_idx' }
 */
export function indexUse(
  plan: readonly string[],
  vectorIndex: string | null,
): { indexUsed: boolean; index: string | null } {
  const scanned = plan.flatMap(
    (line) => /Index (?:Only )?Scan(?: Backward)? using (\S+)/.exec(line)?.[1] ?? [],
  )
  const indexUsed = vectorIndex !== null && scanned.includes(vectorIndex)
  return { indexUsed, index: indexUsed ? vectorIndex : (scanned[0] ?? null) }
}
