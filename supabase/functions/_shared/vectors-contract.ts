/**
 * The HTTP contract of the `vectors` function (collections): zod schemas shared by the
 * function (Deno) and the SDK (Node, browsers). The shape of `values` depends on the
 * collection's type, which only the database knows; these schemas check what can be checked
 * without it, and `vector-values.ts` checks the rest against the collection.
 */
import { z } from 'zod'
import { EF_SEARCH_RANGE, PROBES_RANGE } from './vector-kinds.ts'

/** Largest number of records one upsert, fetch or delete may name. */
export const MAX_RECORDS_PER_REQUEST = 1000

/** Largest `topK` a query may ask for. */
export const MAX_TOP_K = 1000

/** Default `topK` of a query that names none. */
export const DEFAULT_TOP_K = 10

/**
 * Below this many matching rows, a filtered query scans them exactly instead of walking the
 * vector index: reading a few rows and sorting them is cheaper than an index walk that must
 * skip most of what it finds, and it is exact. Measured with `npm run bench:filters`
 * (see bench/README.md).
 */
export const EXACT_SCAN_THRESHOLD = 2000

/** Longest record id, in characters. */
export const MAX_ID_LENGTH = 512

/** Longest text a record of a text collection may hold, in characters: chunk longer documents. */
export const MAX_TEXT_LENGTH = 100_000

/** Longest text a query may search for, in characters. */
export const MAX_QUERY_TEXT_LENGTH = 4096

/** Deepest nesting a metadata object may have. */
export const MAX_METADATA_DEPTH = 16

const NUL = '\u0000'

/** A record id: 1 to 512 characters, no NUL (Postgres text cannot hold it). */
export const RecordId = z
  .string({ error: 'expected a string id' })
  .min(1, { error: 'expected a non-empty id' })
  .max(MAX_ID_LENGTH, { error: `expected an id of at most ${MAX_ID_LENGTH} characters` })
  .refine((id) => !id.includes(NUL), { error: 'ids cannot contain NUL characters' })

/** A record's text, in text collections (`collection:new --text`): searched by keywords. */
export const RecordText = z
  .string({ error: 'expected a string text' })
  .max(MAX_TEXT_LENGTH, {
    error: `expected a text of at most ${MAX_TEXT_LENGTH} characters: split longer documents`,
  })
  .refine((text) => !text.includes(NUL), { error: 'texts cannot contain NUL characters' })

/** A sparse vector: non-zero elements by 0-based index, and the space's dimension count. */
export const SparseValues = z.strictObject({
  indices: z.array(
    z
      .number()
      .int({ error: 'expected integer indices' })
      .min(0, { error: 'expected indices from 0' }),
  ),
  values: z.array(z.number({ error: 'expected a finite number' })),
  dimensions: z
    .number()
    .int({ error: 'expected an integer' })
    .min(1, { error: 'expected at least 1' }),
})

/** An embedding as a client sends it; its form depends on the collection's type. */
export type VectorValuesInput =
  number[] | string | boolean[] | { indices: number[]; values: number[]; dimensions: number }

/**
 * An embedding in any of the forms the collection types take: numbers (vector, halfvec), a
 * string of 0/1 or booleans (bit), or `{indices, values, dimensions}` (sparsevec). Which form
 * is right, and how long it must be, depends on the collection: `vector-values.ts` checks it
 * once the collection is known, naming the exact element at fault.
 */
export const Values = z.custom<VectorValuesInput>(
  (value) => value !== undefined && value !== null,
  {
    error: 'expected values',
  },
)

/** Metadata: a JSON object, nested at most 16 deep, with no NUL in keys or strings. */
export const Metadata = z
  .record(z.string(), z.json(), { error: 'expected a JSON object' })
  .superRefine((value, context) => {
    const problem = metadataProblem(value, 1)
    if (problem) context.addIssue({ code: 'custom', message: problem.message, path: problem.path })
  })

function metadataProblem(
  value: unknown,
  depth: number,
  path: (string | number)[] = [],
): { message: string; path: (string | number)[] } | undefined {
  if (typeof value === 'string') {
    return value.includes(NUL)
      ? { message: 'strings cannot contain NUL characters', path }
      : undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  if (depth > MAX_METADATA_DEPTH)
    return { message: `metadata nests at most ${MAX_METADATA_DEPTH} deep`, path }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes(NUL))
      return { message: 'keys cannot contain NUL characters', path: [...path, key] }
    const problem = metadataProblem(item, depth + 1, [
      ...path,
      Array.isArray(value) ? Number(key) : key,
    ])
    if (problem) return problem
  }
  return undefined
}

/**
 * Who may read and write a collection's records, chosen at `collection:new`:
 * - `public`: anyone with an API key reads, only `service_role` writes;
 * - `owner`: each user reads and writes their own records (`owner_id = auth.uid()`), anon
 *   nothing;
 * - `tenant`: each user reads and writes their tenant's records (the JWT's
 *   `app_metadata.tenant_id`), anon and users without the claim nothing.
 *
 * `service_role` reads and writes every record in every mode.
 */
export const AccessMode = z.enum(['public', 'owner', 'tenant'], {
  error: 'expected "public", "owner" or "tenant"',
})

/** Every access mode, for messages and docs. */
export const ACCESS_MODES = AccessMode.options

/** A record's owner in an `owner` collection: a user's id, as `auth.uid()` gives it. */
export const OwnerId = z.uuid({ error: 'expected a user id (a uuid)' })

/** Longest tenant id, in characters. */
export const MAX_TENANT_ID_LENGTH = 256

/** A record's tenant in a `tenant` collection, as the JWT's `app_metadata.tenant_id` holds it. */
export const TenantId = z
  .string({ error: 'expected a string tenant id' })
  .min(1, { error: 'expected a non-empty tenant id' })
  .max(MAX_TENANT_ID_LENGTH, {
    error: `expected a tenant id of at most ${MAX_TENANT_ID_LENGTH} characters`,
  })
  .refine((id) => !id.includes(NUL), { error: 'tenant ids cannot contain NUL characters' })

/**
 * One record to store. `owner_id` (owner collections) and `tenant_id` (tenant collections)
 * are sent by `service_role` only, whose key acts for no user; a user's records get theirs
 * from the user's token.
 */
export const UpsertRecord = z.strictObject({
  id: RecordId,
  /** Required, but in a text collection a record with a text may have none. */
  values: Values.optional(),
  metadata: Metadata.optional(),
  /** Text collections: the record's text, searched by text and hybrid queries. */
  text: RecordText.nullable().optional(),
  owner_id: OwnerId.optional(),
  tenant_id: TenantId.optional(),
})

const Ids = z
  .array(RecordId)
  .min(1, { error: 'expected at least 1 id' })
  .max(MAX_RECORDS_PER_REQUEST, { error: `expected at most ${MAX_RECORDS_PER_REQUEST} ids` })

/** A metadata filter; `filter.ts` checks its language. */
export const FilterSchema = z.record(z.string(), z.unknown(), { error: 'expected a filter object' })

/** Body of `POST /vectors/<collection>/upsert`. */
export const UpsertRequest = z.strictObject({
  records: z
    .array(UpsertRecord)
    .min(1, { error: 'expected at least 1 record' })
    .max(MAX_RECORDS_PER_REQUEST, { error: `expected at most ${MAX_RECORDS_PER_REQUEST} records` })
    .superRefine((records, context) => {
      const seen = new Set<string>()
      records.forEach((record, index) => {
        if (seen.has(record.id)) {
          context.addIssue({
            code: 'custom',
            message: `duplicate id ${JSON.stringify(record.id)} in one batch`,
            path: [index, 'id'],
          })
        }
        seen.add(record.id)
      })
    }),
})

/** Body of `POST /vectors/<collection>/fetch`. */
export const FetchRequest = z.strictObject({
  ids: Ids,
  /** Text collections: also answer each record's `text`. */
  includeText: z.boolean().default(false),
})

/** Body of `POST /vectors/<collection>/delete`: ids or a filter, not both. */
export const DeleteRequest = z.union(
  [z.strictObject({ ids: Ids }), z.strictObject({ filter: FilterSchema })],
  {
    error: 'expected {"ids": [...]} or {"filter": {...}}',
  },
)

/** Largest page a list may ask for. */
export const MAX_LIST_LIMIT = 1000

/** Page size of a list that names none. */
export const DEFAULT_LIST_LIMIT = 100

/** Longest cursor a list accepts, in characters (a cursor is opaque; the function makes it). */
export const MAX_CURSOR_LENGTH = 2048

/**
 * Body of `POST /vectors/<collection>/list`: ids in order, a page at a time. `cursor` is the
 * `nextCursor` of the page before (null or absent for the first page); it belongs to one
 * listing (collection, caller, filter and prefix) and is refused (400) anywhere else.
 */
export const ListRequest = z.strictObject({
  limit: integerIn(1, MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  cursor: z
    .string({ error: 'expected the nextCursor of the page before' })
    .min(1, { error: 'expected a non-empty cursor' })
    .max(MAX_CURSOR_LENGTH, { error: 'not a cursor this function made' })
    .nullable()
    .optional(),
  filter: FilterSchema.optional(),
  prefix: z
    .string({ error: 'expected a string prefix' })
    .min(1, { error: 'expected a non-empty prefix' })
    .max(MAX_ID_LENGTH, { error: `expected a prefix of at most ${MAX_ID_LENGTH} characters` })
    .refine((prefix) => !prefix.includes(NUL), { error: 'prefixes cannot contain NUL characters' })
    .optional(),
})

/** Answer of list: a page of ids in order, and the cursor of the next page (null at the end). */
export interface ListResponse {
  ids: string[]
  nextCursor: string | null
}

/** How update changes metadata: `merge` (jsonb `||`, top-level keys) or `replace` it whole. */
export const UpdateMode = z.enum(['merge', 'replace'], { error: 'expected "merge" or "replace"' })

/**
 * Body of `POST /vectors/<collection>/update`: the record `id` (its metadata, its values or
 * both), or every record a non-empty `filter` matches (metadata only).
 */
export const UpdateRequest = z
  .strictObject({
    id: RecordId.optional(),
    filter: FilterSchema.optional(),
    metadata: Metadata.optional(),
    values: Values.optional(),
    /** Text collections: the record's new text (null removes it); by id only. */
    text: RecordText.nullable().optional(),
    mode: UpdateMode.default('merge'),
  })
  .superRefine((update, context) => {
    if ((update.id === undefined) === (update.filter === undefined)) {
      context.addIssue({ code: 'custom', message: 'expected either "id" or "filter"', path: [] })
    } else if (update.filter !== undefined && update.values !== undefined) {
      context.addIssue({
        code: 'custom',
        message: 'values are updated by id only: a filter updates metadata',
        path: ['values'],
      })
    } else if (update.filter !== undefined && update.text !== undefined) {
      context.addIssue({
        code: 'custom',
        message: 'text is updated by id only: a filter updates metadata',
        path: ['text'],
      })
    } else if (
      update.metadata === undefined &&
      update.values === undefined &&
      update.text === undefined
    ) {
      context.addIssue({
        code: 'custom',
        message:
          update.id === undefined
            ? 'expected "metadata"'
            : 'expected "metadata" or "values" (or "text" in a text collection)',
        path: [],
      })
    }
  })

/** Answer of update: how many records changed. */
export interface UpdateResponse {
  updated: number
}

/** Body of `POST /vectors/<collection>/count`: all records the caller sees, or a filter's. */
export const CountRequest = z.strictObject({ filter: FilterSchema.optional() })

/** Answer of count: exact, as the caller sees the collection. */
export interface CountResponse {
  count: number
}

/** An integer from `min` to `max`, with messages that say which bound was crossed. */
export function integerIn(min: number, max: number) {
  return z
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(min, { error: `expected at least ${min}` })
    .max(max, { error: `expected at most ${max}` })
}

/** How a query searches: the planner's choice, the vector index, or an exact scan. */
export const ScanMode = z.enum(['auto', 'index', 'exact'])

/**
 * How a hybrid query fuses its keyword and vector rankings: a row scores
 * `textWeight / (k + textRank) + vectorWeight / (k + vectorRank)` over the sides that found
 * it (ranks from 1); each side ranks its best `candidates` rows (default `max(2 * topK, 40)`).
 */
export const Fusion = z
  .strictObject({
    k: integerIn(0, 10_000).default(50),
    textWeight: z.number({ error: 'expected a number' }).min(0).max(1000).default(1),
    vectorWeight: z.number({ error: 'expected a number' }).min(0).max(1000).default(1),
    candidates: integerIn(1, MAX_TOP_K).optional(),
  })
  .refine((fusion) => fusion.textWeight > 0 || fusion.vectorWeight > 0, {
    error: 'expected textWeight or vectorWeight above 0',
  })

/** A query's text: searched with `websearch_to_tsquery` (`"exact phrase" -excluded or other`). */
export const QueryText = z
  .string({ error: 'expected a string text' })
  .min(1, { error: 'expected a non-empty text' })
  .max(MAX_QUERY_TEXT_LENGTH, {
    error: `expected a text of at most ${MAX_QUERY_TEXT_LENGTH} characters`,
  })
  .refine((text) => !text.includes(NUL), { error: 'texts cannot contain NUL characters' })

/**
 * Body of `POST /vectors/<collection>/query`: by a vector, or by the stored vector of an id;
 * in text collections also by `text` alone (keyword) or `text` with either (hybrid).
 */
export const QueryRequest = z
  .strictObject({
    vector: Values.optional(),
    id: RecordId.optional(),
    topK: integerIn(1, MAX_TOP_K).default(DEFAULT_TOP_K),
    filter: FilterSchema.optional(),
    includeValues: z.boolean().default(false),
    includeMetadata: z.boolean().default(true),
    efSearch: integerIn(EF_SEARCH_RANGE.min, EF_SEARCH_RANGE.max).optional(),
    probes: integerIn(PROBES_RANGE.min, PROBES_RANGE.max).optional(),
    scan: ScanMode.default('auto'),
    /** Also answer the query plan and the scan used (service_role only, like Studio). */
    explain: z.boolean().default(false),
    /** Text collections: keyword search, alone or fused with the vector search. */
    text: QueryText.optional(),
    /** Hybrid queries: how the keyword and vector rankings are fused. */
    fusion: Fusion.optional(),
  })
  .refine(
    (query) =>
      query.text === undefined
        ? (query.vector === undefined) !== (query.id === undefined)
        : query.vector === undefined || query.id === undefined,
    { error: 'expected either "vector" or "id"' },
  )
  .refine((query) => query.fusion === undefined || query.text !== undefined, {
    error: 'fusion: applies to hybrid queries: send "text" with "vector" or "id"',
    path: ['fusion'],
  })

/** Most queries one batch may carry. */
export const MAX_BATCH_QUERIES = 100

/**
 * Body of `POST vectors/<c>/query` with several queries: `{"queries":[{…},{…}]}`, answered
 * `{"results":[{"matches":[…]},…]}` in order, in one transaction. One bad query refuses the
 * whole batch, its index in the message.
 */
export const BatchQueryRequest = z.strictObject({
  queries: z
    .array(QueryRequest, { error: 'expected an array of queries' })
    .min(1, { error: 'expected at least 1 query' })
    .max(MAX_BATCH_QUERIES, { error: `expected at most ${MAX_BATCH_QUERIES} queries` }),
})

/**
 * A body schema that is `batch` when the body has `key` and `single` otherwise, with each
 * one's own messages (a zod union would report both).
 */
export function singleOrBatch<S extends z.ZodType, B extends z.ZodType>(
  key: string,
  single: S,
  batch: B,
) {
  return z.unknown().transform((body, context): z.output<S> | z.output<B> => {
    const isBatch = typeof body === 'object' && body !== null && key in body
    const parsed = (isBatch ? batch : single).safeParse(body)
    if (parsed.success) return parsed.data as z.output<S> | z.output<B>
    for (const issue of parsed.error.issues) context.addIssue({ ...issue } as never)
    return z.NEVER
  })
}

/** What the query route takes: one query, or a batch when the body has `queries`. */
export const QueryRouteRequest = singleOrBatch('queries', QueryRequest, BatchQueryRequest)

/**
 * Who a record belongs to, in owner and tenant collections: returned to `service_role` only
 * (a user sees only their own records anyway).
 */
export interface RecordOwnership {
  owner_id?: string
  tenant_id?: string
}

/** A stored record as fetch and query return it. */
export interface VectorRecord<M = Record<string, unknown>> extends RecordOwnership {
  id: string
  /** Null only in a text collection, for a record stored with a text and no vector. */
  values: VectorValues | null
  metadata: M
  /** Text collections, with `includeText`: the record's text (null when it has none). */
  text?: string | null
}

/** Values as the function returns them: numbers, a bit string, or a sparse object. */
export type VectorValues = number[] | string | z.output<typeof SparseValues>

/** One query result. */
export interface QueryMatch<M = Record<string, unknown>> extends RecordOwnership {
  id: string
  distance: number
  values?: VectorValues
  metadata?: M
}

/**
 * One result of a text query. Keyword queries: `score` is `ts_rank_cd`'s. Hybrid queries:
 * `score` is the fused score, and `distance` is there when the vector side found the record.
 * `ranks` gives the record's place on each side (from 1; null where that side did not find it).
 */
export interface TextMatch<M = Record<string, unknown>> extends RecordOwnership {
  id: string
  score: number
  ranks: { text: number | null; vector: number | null }
  distance?: number
  values?: VectorValues
  metadata?: M
}

/** Answer of a text (keyword or hybrid) query. */
export interface TextQueryResponse<M = Record<string, unknown>> {
  matches: TextMatch<M>[]
}

/** Answer of a query: the matches, and with `explain`, how the query ran. */
export interface QueryResponse<M = Record<string, unknown>> {
  matches: QueryMatch<M>[]
  /** With `explain: true`: whether the vector index or an exact scan answered. */
  scan?: 'index' | 'exact'
  /** With `explain: true`: EXPLAIN of the statement that answered. */
  plan?: string[]
}

/** Answer of describe (`GET /vectors/<collection>/describe`). */
export interface CollectionDescription {
  name: string
  dimensions: number
  type: 'vector' | 'halfvec' | 'bit' | 'sparsevec'
  metric: 'cosine' | 'l2' | 'inner_product' | 'l1' | 'hamming' | 'jaccard'
  index: 'hnsw' | 'ivfflat' | null
  access: AccessMode
  /** Declared metadata fields, each served by an index of its own (`--index-field`). */
  fields: { name: string; type: 'number' | 'text' | 'boolean' }[]
  /**
   * The table's row count as the database's statistics estimate it, cheap at any size; `count`
   * gives the exact number a caller sees. Null for a user of an owner or tenant collection
   * (the whole table's size is not theirs to know); 0 for a table never analyzed and empty.
   */
  estimatedCount: number | null
}

export type UpsertRequest = z.input<typeof UpsertRequest>
export type FetchRequest = z.input<typeof FetchRequest>
export type DeleteRequest = z.input<typeof DeleteRequest>
export type QueryRequest = z.input<typeof QueryRequest>
export type BatchQueryRequest = z.input<typeof BatchQueryRequest>
export type ListRequest = z.input<typeof ListRequest>
export type UpdateRequest = z.input<typeof UpdateRequest>
export type CountRequest = z.input<typeof CountRequest>
export type AccessMode = z.output<typeof AccessMode>
export type SparseValues = z.output<typeof SparseValues>
