/**
 * What the playground reads from the database: the collections it can show, described from
 * the catalog (type, dimensions, vector index and its metric), their rows, and the plan of
 * an `items` search. The page inserts and searches through the SDK; only these reads come
 * here.
 *
 * Two kinds of collection: the tutorial's `items`, named below, and every table that
 * `collection:new` made, found as the vectors function finds them, by the marker comment
 * on the table. Both are described by one function, so the page sees them alike.
 */
import type postgres from 'postgres'
import type {
  CollectionInfo,
  CollectionKind,
  ExplainResponse,
  Metric,
  Row,
} from '../../playground/types.ts'
import { indexUse } from '../../playground/plan.ts'
import { COLLECTION_MARKER } from '../../supabase/functions/_shared/collection-marker.ts'
import {
  METRICS,
  metricOfOperatorClass,
  VECTOR_TYPES,
  type VectorType,
} from '../../supabase/functions/_shared/vector-kinds.ts'
import { fromVectorText } from '../../supabase/functions/_shared/vector-values.ts'
import { explainFunctionQuery } from '../explain.ts'

export { indexUse }

/** A collection as the playground knows it before asking the catalog. */
export interface CollectionSource {
  kind: CollectionKind
  name: string
  table: string
  column: string
}

/** The tutorial's table, searched through `public.match_items`. */
export const ITEMS: CollectionSource = {
  kind: 'items',
  name: 'items',
  table: 'public.items',
  column: 'embedding',
}

/** `match_items`' signature, for EXPLAIN, as `regprocedure` reads it. */
const ITEMS_SEARCH_FUNCTION = 'public.match_items(extensions.vector, int)'

/**
 * The names a collection may have: those `collection:new` writes and the vectors function
 * serves (lowercase, so they never need quoting). A table with the marker but another name
 * would be listed here and refused there; it is left out.
 */
const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,47}$/

/** Most rows one `GET /api/rows` answers: more would not help a scatter or a table. */
export const MAX_ROWS = 1000

/** The `limit` of `GET /api/rows` when none is given. */
export const DEFAULT_ROWS = 500

/**
 * Every collection the playground can show: `items`, then the marked tables by name. The
 * catalog is read on each call, so a collection pushed a moment ago is listed.
 *
 * @example
 * await collectionSources(sql) // [ITEMS, { kind: 'collection', name: 'docs', table: 'public.docs', … }]
 */
export async function collectionSources(sql: postgres.Sql): Promise<CollectionSource[]> {
  const tables = await sql<{ name: string }[]>`
    select c.relname as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'
      and starts_with(coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''), ${COLLECTION_MARKER})
    order by c.relname`
  return [
    ITEMS,
    ...tables.flatMap((table) =>
      COLLECTION_NAME.test(table.name) ? [collectionSource(table.name)] : [],
    ),
  ]
}

/**
 * The collection called `name` (`items`, or a marked table), or undefined if there is none:
 * one of those `collectionSources` lists, so that the page can open no other.
 */
export async function findCollection(
  sql: postgres.Sql,
  name: string,
): Promise<CollectionSource | undefined> {
  if (name === ITEMS.name) return ITEMS
  return (await collectionSources(sql)).find((source) => source.name === name)
}

function collectionSource(name: string): CollectionSource {
  return { kind: 'collection', name, table: `public.${name}`, column: 'embedding' }
}

/**
 * Describes every collection from the catalog; one whose table or vector column is missing
 * (not yet migrated, or not a pgvector type) is left out.
 *
 * @example
 * const [items] = await describeCollections(sql) // { name: 'items', kind: 'items', dimensions: 3, metric: 'cosine', … }
 */
export async function describeCollections(sql: postgres.Sql): Promise<CollectionInfo[]> {
  const described: CollectionInfo[] = []
  for (const source of await collectionSources(sql)) {
    const info = await describeCollection(sql, source)
    if (info) described.push(info)
  }
  return described
}

/**
 * One collection from the catalog, `items` or a marked table alike, or undefined if its
 * table or column is missing or the column is not one of pgvector's types.
 */
export async function describeCollection(
  sql: postgres.Sql,
  source: CollectionSource,
): Promise<CollectionInfo | undefined> {
  const [column] = await sql<
    { type: string; base: string; dimensions: number; comment: string | null }[]
  >`
    select pg_catalog.format_type(a.atttypid, a.atttypmod) as type, t.typname as base,
      a.atttypmod as dimensions, pg_catalog.obj_description(a.attrelid, 'pg_class') as comment
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_type t on t.oid = a.atttypid
    where a.attrelid = to_regclass(${source.table}) and a.attname = ${source.column}
      and not a.attisdropped`
  if (!column || !(VECTOR_TYPES as readonly string[]).includes(column.base)) return undefined
  const [index] = await sql<{ name: string; opclass: string }[]>`
    select i.relname as name, opc.opcname as opclass
    from pg_catalog.pg_index x
    join pg_catalog.pg_class i on i.oid = x.indexrelid
    join pg_catalog.pg_am am on am.oid = i.relam
    join pg_catalog.pg_opclass opc on opc.oid = x.indclass[0]
    join pg_catalog.pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
    where x.indrelid = to_regclass(${source.table}) and a.attname = ${source.column}
      and am.amname in ('hnsw', 'ivfflat') and x.indisvalid
    order by i.relname
    limit 1`
  const [count] = await sql<
    { rows: number }[]
  >`select count(*)::int as rows from ${sql(source.table)}`
  return {
    name: source.name,
    kind: source.kind,
    table: source.table,
    column: source.column,
    type: column.type,
    vectorType: column.base as VectorType,
    dimensions: column.dimensions,
    // As the vectors function decides it: the index's metric, else the declared one.
    metric: (index ? metricOf(index.opclass) : null) ?? declaredMetric(column.comment),
    index: index?.name ?? null,
    rows: count?.rows ?? 0,
  }
}

/** The metric an operator class orders by, e.g. `cosine` for `vector_cosine_ops`. */
export function metricOf(opclass: string): Metric | null {
  return metricOfOperatorClass(opclass) ?? null
}

/**
 * The metric a collection's marker comment declares (`matchbox collection {"metric":"l2"}`),
 * or null for any other comment.
 *
 * @example
 * declaredMetric('matchbox collection {"metric":"l2"}') // 'l2'
 */
export function declaredMetric(comment: string | null): Metric | null {
  if (!comment?.startsWith(COLLECTION_MARKER)) return null
  try {
    const { metric } = JSON.parse(comment.slice(COLLECTION_MARKER.length)) as { metric?: unknown }
    return METRICS.find((known) => known === metric) ?? null
  } catch {
    return null
  }
}

/**
 * The first `limit` rows of a collection by id, with their metadata for a collection, and
 * how many it holds (as `describeCollection` counted them).
 */
export async function readRows(
  sql: postgres.Sql,
  collection: CollectionInfo,
  limit: number,
): Promise<{ rows: Row[]; total: number }> {
  const isItems = collection.kind === 'items'
  // `c.id`, not `id`: ordering by the output column would sort items' ids as text.
  const rows = await sql<{ id: string; embedding: string; metadata?: Record<string, unknown> }[]>`
    select c.id::text as id, c.${sql(collection.column)}::text as embedding
      ${isItems ? sql`` : sql`, c.metadata`}
    from ${sql(collection.table)} as c
    order by c.id
    limit ${limit}`
  return {
    rows: rows.map((row) => ({
      // bigint ids arrive as strings; the SDK answers them as JSON numbers, and so does this.
      id: isItems ? Number(row.id) : row.id,
      embedding: fromVectorText(collection.vectorType, row.embedding),
      ...(isItems ? {} : { metadata: row.metadata ?? {} }),
    })),
    total: collection.rows,
  }
}

/**
 * The plan of `items`' search query for `embedding` and `count`, and whether it scans the
 * vector index. (A collection's query answers its own plan, with `explain: true`.)
 *
 * Planned as the database owner, not as the page's anon key: the items policies for reading
 * are `using (true)`, which add nothing to the plan.
 */
export async function explainSearch(
  sql: postgres.Sql,
  vectorIndex: string | null,
  embedding: readonly number[],
  count: number,
): Promise<ExplainResponse> {
  const plan = await explainFunctionQuery(sql, ITEMS_SEARCH_FUNCTION, [
    `[${embedding.join(',')}]`,
    count,
  ])
  return { plan, ...indexUse(plan, vectorIndex) }
}
