/**
 * What makes a table a collection, and the one reader of a vector column's shape from the
 * catalog (type, dimensions, index and metric). The `vectors` function, the playground and
 * the collection commands all go through it, so they cannot disagree about a collection.
 */
import type postgres from 'postgres'
import {
  type IndexMethod,
  type Metric,
  METRIC_OPERATORS,
  METRICS,
  metricOfOperatorClass,
  VECTOR_TYPES,
  type VectorType,
} from '../_shared/vector-kinds.ts'
import { type DeclaredField, FIELD_MARKER, FIELD_NAME, FIELD_TYPES } from './fields.ts'
import type { VectorShape } from '../_shared/vector-values.ts'
import { ACCESS_MODES, type AccessMode } from '../_shared/vectors-contract.ts'

/**
 * The comment that marks a table as a Matchbox collection. `collection:new` writes it with
 * the declared metric and, unless public, the access mode as JSON after it
 * (`matchbox collection {"metric":"l2"}`, `matchbox collection {"metric":"cosine","access":"owner"}`).
 */
export const COLLECTION_MARKER = 'matchbox collection'

/** A collection's name: lowercase, so it never needs quoting in SQL. */
export const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,47}$/

/** A vector column as the catalog describes it. */
export interface VectorColumn extends VectorShape {
  /** The column's type as Postgres prints it, e.g. `extensions.vector(384)`, for casts. */
  columnType: string
  /** The table's comment: the collection marker, for a collection. */
  comment: string | null
  /** The vector index's name, its method and the IVFFlat list count, if the column has one. */
  indexName: string | null
  index: IndexMethod | null
  lists: number | null
  /** The index's metric, else the one the marker declares; null when neither says. */
  metric: Metric | null
  /**
   * The text search configuration of the table's generated `fts` column (e.g.
   * `pg_catalog.english`) when it also has a `content` text column: a text collection
   * (`collection:new --text`). Null for any other table.
   */
  textLanguage: string | null
  /** Declared metadata fields, each with a btree index on its typed value (fields.ts). */
  fields: DeclaredField[]
}

/** A collection: a marked table whose `embedding` column is a pgvector type with a metric. */
export interface Collection extends VectorColumn {
  name: string
  /** `public.<name>`: the name is checked, so it is safe in SQL text. */
  table: string
  metric: Metric
  /** `operator(extensions.<=>)`: the metric's distance operator. */
  operator: string
  /** Who reads and writes its records, as its marker declares. */
  access: AccessMode
}

/**
 * The vector column `column` of `table` (e.g. `public.items`), or undefined when the table or
 * column is missing or not one of pgvector's types.
 *
 * @example
 * await readVectorColumn(sql, 'public.items', 'embedding') // { type: 'vector', dimensions: 3, metric: 'cosine', … }
 */
export async function readVectorColumn(
  sql: postgres.Sql,
  table: string,
  column: string,
): Promise<VectorColumn | undefined> {
  const [row] = await sql`
    select
      pg_catalog.format_type(a.atttypid, a.atttypmod) as column_type,
      t.typname as type,
      a.atttypmod as dimensions,
      pg_catalog.obj_description(a.attrelid, 'pg_class') as comment,
      idx.name as index_name,
      idx.method,
      idx.opclass,
      idx.lists,
      -- The configuration of the generated fts column, in a table with a content column too:
      -- Postgres records the generation expression's dependency on it (what the column does).
      (select pg_catalog.format('%I.%I', n.nspname, cfg.cfgname)
       from pg_catalog.pg_attribute f
       join pg_catalog.pg_attrdef d on d.adrelid = f.attrelid and d.adnum = f.attnum
       join pg_catalog.pg_ts_config cfg on cfg.oid = coalesce(
         (select dep.refobjid from pg_catalog.pg_depend dep
          where dep.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass and dep.objid = d.oid
            and dep.refclassid = 'pg_catalog.pg_ts_config'::pg_catalog.regclass limit 1),
         -- Built-in configurations (simple) are pinned: no dependency is recorded for them.
         (select b.oid from pg_catalog.pg_ts_config b
          where b.cfgnamespace = 'pg_catalog'::pg_catalog.regnamespace
            and b.cfgname = pg_catalog.substring(pg_catalog.pg_get_expr(d.adbin, d.adrelid),
              '^to_tsvector\\(''([a-z0-9_]+)''::regconfig')))
       join pg_catalog.pg_namespace n on n.oid = cfg.cfgnamespace
       where f.attrelid = a.attrelid and f.attname = 'fts' and not f.attisdropped
         and f.atttypid = 'pg_catalog.tsvector'::pg_catalog.regtype and f.attgenerated = 's'
         and exists (
           select 1 from pg_catalog.pg_attribute t
           where t.attrelid = a.attrelid and t.attname = 'content' and not t.attisdropped
             and t.atttypid = 'pg_catalog.text'::pg_catalog.regtype
         )
       limit 1) as text_language,
      -- Declared metadata fields: the valid indexes whose comment says which field they serve.
      (select pg_catalog.json_agg(pg_catalog.obj_description(i.indexrelid, 'pg_class'))
       from pg_catalog.pg_index i
       where i.indrelid = a.attrelid and i.indisvalid
         and pg_catalog.obj_description(i.indexrelid, 'pg_class') like ${FIELD_MARKER + ' %'}) as fields
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_type t on t.oid = a.atttypid
    left join lateral (
      select ic.relname as name, m.amname as method, o.opcname as opclass,
        (select pg_catalog.split_part(option, '=', 2)::int
         from pg_catalog.unnest(ic.reloptions) as option where option like 'lists=%') as lists
      from pg_catalog.pg_index i
      join pg_catalog.pg_class ic on ic.oid = i.indexrelid
      join pg_catalog.pg_am m on m.oid = ic.relam
      join pg_catalog.pg_opclass o on o.oid = i.indclass[0]
      where i.indrelid = a.attrelid and i.indkey[0] = a.attnum and i.indisvalid
        and m.amname in ('hnsw', 'ivfflat')
      order by ic.relname
      limit 1
    ) idx on true
    where a.attrelid = pg_catalog.to_regclass(${table}) and a.attname = ${column}
      and not a.attisdropped`
  if (!row || !(VECTOR_TYPES as readonly string[]).includes(row.type)) return undefined
  return {
    columnType: row.column_type,
    type: row.type as VectorType,
    dimensions: row.dimensions,
    comment: row.comment,
    indexName: row.index_name ?? null,
    index: (row.method as IndexMethod | null) ?? null,
    indexed: Boolean(row.method),
    lists: row.lists ?? null,
    // The index's operator class decides; a collection whose index was dropped keeps the
    // metric its marker declares.
    metric:
      (row.opclass ? metricOfOperatorClass(row.opclass) : undefined) ?? declaredMetric(row.comment),
    textLanguage: row.text_language ?? null,
    fields: declaredFields(row.fields),
  }
}

/** The declared fields their indexes' comments name; a comment that does not parse is skipped. */
function declaredFields(comments: unknown): DeclaredField[] {
  if (!Array.isArray(comments)) return []
  return comments.flatMap((comment: string) => {
    try {
      const { name, type } = JSON.parse(comment.slice(FIELD_MARKER.length)) as DeclaredField
      const known =
        typeof name === 'string' && FIELD_NAME.test(name) && Object.hasOwn(FIELD_TYPES, type)
      return known ? [{ name, type }] : []
    } catch {
      return []
    }
  })
}

/**
 * The collection called `name`, or undefined when there is no such marked table with a
 * vector column and a metric.
 */
export async function readCollection(
  sql: postgres.Sql,
  name: string,
): Promise<Collection | undefined> {
  if (!COLLECTION_NAME.test(name)) return undefined
  const table = `public.${name}`
  const column = await readVectorColumn(sql, table, 'embedding')
  if (!column?.comment?.startsWith(COLLECTION_MARKER) || !column.metric) return undefined
  // An access mode this code does not know is not guessed at: no collection, no access.
  const access = declaredAccess(column.comment)
  if (!access) return undefined
  return {
    ...column,
    name,
    table,
    access,
    metric: column.metric,
    operator: `operator(extensions.${METRIC_OPERATORS[column.metric]})`,
  }
}

/**
 * The names of the marked tables that are collections by name, in order.
 *
 * @example
 * await collectionNames(sql) // ['docs', 'photos']
 */
export async function collectionNames(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'
      and starts_with(coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''), ${COLLECTION_MARKER})
    order by c.relname`
  return rows.map((row) => row.name).filter((name) => COLLECTION_NAME.test(name))
}

/**
 * The metric a collection's marker comment declares, or null for any other comment.
 *
 * @example
 * declaredMetric('matchbox collection {"metric":"l2"}') // 'l2'
 */
export function declaredMetric(comment: string | null): Metric | null {
  const { metric } = markerFields(comment) ?? {}
  return METRICS.find((known) => known === metric) ?? null
}

/**
 * The access mode a collection's marker comment declares: `public` when it names none (as
 * collections made before access modes do), null for an unknown mode or any other comment.
 *
 * @example
 * declaredAccess('matchbox collection {"metric":"cosine","access":"owner"}') // 'owner'
 * declaredAccess('matchbox collection {"metric":"l2"}') // 'public'
 */
export function declaredAccess(comment: string | null): AccessMode | null {
  const fields = markerFields(comment)
  if (!fields) return null
  if (fields.access === undefined) return 'public'
  return ACCESS_MODES.find((known) => known === fields.access) ?? null
}

/** The JSON fields after the marker, or null for a comment that is no marker. */
function markerFields(comment: string | null): Record<string, unknown> | null {
  if (!comment?.startsWith(COLLECTION_MARKER)) return null
  const rest = comment.slice(COLLECTION_MARKER.length).trim()
  if (rest === '') return {}
  try {
    const fields: unknown = JSON.parse(rest)
    return typeof fields === 'object' && fields !== null && !Array.isArray(fields)
      ? (fields as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}
