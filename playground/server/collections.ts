/**
 * What the playground reads from the database: its collections (`items`, and every table
 * `collection:new` marked, both described by the vectors function's catalog reader), their
 * rows, and the plan of an `items` search.
 */
import type postgres from 'postgres'
import type {
  CollectionInfo,
  CollectionKind,
  ExplainResponse,
  OwnersResponse,
  Row,
} from '../web/types.ts'
import { indexUse } from '../web/plan.ts'
import {
  collectionNames,
  declaredAccess,
  readVectorColumn,
} from '../../supabase/functions/vectors/shape.ts'
import { fromVectorText } from '../../supabase/functions/_shared/vector-values.ts'
import { explainFunctionQuery } from '../../stack/explain.ts'

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

/** Most rows one `GET /api/rows` answers: more would not help a scatter or a table. */
export const MAX_ROWS = 1000

/** Most owners `GET /api/owners` lists: enough to pick from. */
export const MAX_OWNERS = 20

/**
 * Every collection the playground can show: `items`, then the marked tables by name. The
 * catalog is read on each call, so a collection pushed a moment ago is listed.
 *
 * @example
 * await collectionSources(sql) // [ITEMS, { kind: 'collection', name: 'docs', table: 'public.docs', … }]
 */
export async function collectionSources(sql: postgres.Sql): Promise<CollectionSource[]> {
  return [ITEMS, ...(await collectionNames(sql)).map(collectionSource)]
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
  const column = await readVectorColumn(sql, source.table, source.column)
  if (!column) return undefined
  // As the vectors function reads it: a mode this code does not know is no collection.
  const access = source.kind === 'items' ? 'public' : declaredAccess(column.comment)
  if (!access) return undefined
  const [count] = await sql<
    { rows: number }[]
  >`select count(*)::int as rows from ${sql(source.table)}`
  return {
    name: source.name,
    kind: source.kind,
    table: source.table,
    column: source.column,
    type: column.columnType,
    vectorType: column.type,
    dimensions: column.dimensions,
    metric: column.metric,
    index: column.indexName,
    rows: count?.rows ?? 0,
    access,
    textLanguage: source.kind === 'items' ? null : column.textLanguage,
  }
}

/**
 * Who owns the rows of an owner or tenant collection (`owner_id` or `tenant_id`), the most
 * rows first: the users the page offers to act as. Read as the database owner, which sees
 * every row, as service_role does.
 */
export async function readOwners(
  sql: postgres.Sql,
  collection: CollectionInfo,
): Promise<OwnersResponse['owners']> {
  const column = ownerColumn(collection)
  if (!column) return []
  const rows = await sql<{ value: string; rows: number }[]>`
    select c.${sql(column)}::text as value, count(*)::int as rows
    from ${sql(collection.table)} as c
    group by c.${sql(column)}
    order by rows desc, value
    limit ${MAX_OWNERS}`
  return rows.map(({ value, rows }) => ({ value, rows }))
}

/** The column that says whose a row is: `owner_id`, `tenant_id`, or none (public). */
export function ownerColumn(collection: CollectionInfo): OwnersResponse['column'] | undefined {
  if (collection.access === 'owner') return 'owner_id'
  if (collection.access === 'tenant') return 'tenant_id'
  return undefined
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
