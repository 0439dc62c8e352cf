/**
 * A collection client: upsert, fetch, delete, query (vector, keyword, hybrid, batch), list,
 * update, count and describe over the
 * `vectors` edge function, typed by the collection's metadata. Every call's `data` is the
 * function's answer as it is: `{ matches }`, `{ records }`, `{ ids, nextCursor }`, `{ count }`…
 */
import {
  type CollectionDescription,
  type CountResponse,
  CountRequest,
  DeleteRequest,
  FetchRequest,
  ListRequest,
  type ListResponse,
  MAX_LIST_LIMIT,
  BatchQueryRequest,
  type QueryMatch,
  QueryRequest,
  type QueryResponse,
  type TextMatch,
  type TextQueryResponse,
  UpdateRequest,
  type UpdateResponse,
  UpsertRequest,
  type VectorRecord,
  type VectorValuesInput,
} from '../supabase/functions/_shared/vectors-contract.ts'
import type { Filter } from './filter.ts'
import type { Transport } from './transport.ts'
import type { CallOptions, MatchboxResult } from './types.ts'

/** Metadata of any shape: a JSON object (an interface or a type alias). */
export type Metadata = object

/** One record to upsert. */
export interface UpsertRecordInput<M extends Metadata> {
  id: string
  /**
   * Numbers (vector, halfvec), a 0/1 string or booleans (bit), or `{indices, values, dimensions}`
   * (sparsevec). Required, except in a text collection for a record with a `text`.
   */
  values?: VectorValuesInput
  metadata?: M
  /** Text collections (`--text`): the record's text, searchable by keywords. */
  text?: string | null
  /** An `owner` collection's record owner (a user id); sent by service_role only. */
  owner_id?: string
  /** A `tenant` collection's record tenant; sent by service_role only. */
  tenant_id?: string
}

/** What every query takes, whatever it searches by. */
interface QueryOptions<M extends Metadata> {
  /** How many matches (1 to 1000, default 10). */
  topK?: number
  filter?: Filter<M>
  /** Return each match's values (default false). */
  includeValues?: boolean
  /** Return each match's metadata (default true). */
  includeMetadata?: boolean
  /** HNSW search width for this query (1 to 1000); higher finds more true neighbours, slower. */
  efSearch?: number
  /** IVFFlat lists to search for this query (1 to 32768). */
  probes?: number
  /** `auto` (default), `index` (always the vector index) or `exact` (a full scan). */
  scan?: 'auto' | 'index' | 'exact'
}

/** A query: by a vector or by the stored vector of an id. */
export type QueryInput<M extends Metadata> = (
  { vector: VectorValuesInput; id?: never } | { id: string; vector?: never }
) &
  QueryOptions<M> & { text?: never }

/**
 * A text collection's query: by keywords alone (`text`), or hybrid (`text` with `vector` or
 * `id`), the two rankings fused by reciprocal rank.
 */
export type TextQueryInput<M extends Metadata> = (
  | { vector?: never; id?: never }
  | { vector: VectorValuesInput; id?: never }
  | { id: string; vector?: never }
) &
  QueryOptions<M> & {
    /** Searched with `websearch_to_tsquery`: `"exact phrase" -excluded or other`. */
    text: string
    /** Hybrid queries: `k` (default 50), `textWeight`, `vectorWeight` (default 1), `candidates`. */
    fusion?: { k?: number; textWeight?: number; vectorWeight?: number; candidates?: number }
  }

/** One page of ids: which ids, from where. */
export interface ListInput<M extends Metadata> {
  /** Ids per page (1 to 1000, default 100). */
  limit?: number
  /** The `nextCursor` of the page before; absent or null for the first page. */
  cursor?: string | null
  filter?: Filter<M>
  /** Only ids that start with this. */
  prefix?: string
}

/** A metadata patch: of the record `id` (metadata, values or both), or of every record a filter matches. */
export type UpdateInput<M extends Metadata> = (
  | {
      id: string
      filter?: never
      metadata?: Partial<M>
      values?: VectorValuesInput
      text?: string | null
    }
  | { filter: Filter<M>; id?: never; metadata: Partial<M>; values?: never }
) & {
  /** `merge` (default): the given top-level keys replace theirs; `replace`: the whole metadata. */
  mode?: 'merge' | 'replace'
}

/**
 * The records of one collection.
 *
 * @example
 * const docs = client.collection<{ category: string; year: number }>('docs')
 * await docs.upsert([{ id: 'a', values: embedding, metadata: { category: 'news', year: 2024 } }])
 * const { data } = await docs.query({ vector: embedding, topK: 5, filter: { year: { $gte: 2020 } } })
 * // data.matches: [{ id: 'a', distance: 0, metadata: { category: 'news', year: 2024 } }, …]
 */
export class CollectionClient<M extends Metadata = Metadata> {
  readonly #transport: Transport
  readonly #path: string

  constructor(
    transport: Transport,
    readonly name: string,
  ) {
    this.#transport = transport
    this.#path = `vectors/${encodeURIComponent(name)}`
  }

  /**
   * Inserts records, replacing any with the same id; all or nothing (at most 1000 a call).
   *
   * @example
   * const { data } = await docs.upsert([{ id: 'a', values: [1, 0, 0] }]) // data: { upserted: 1 }
   */
  upsert(
    records: readonly UpsertRecordInput<M>[],
    options?: CallOptions,
  ): Promise<MatchboxResult<{ upserted: number }>> {
    return this.#transport.call(
      `${this.#path}/upsert`,
      { method: 'POST', schema: UpsertRequest, body: { records } },
      options,
    )
  }

  /**
   * The records with these ids, in that order; missing ids are left out.
   *
   * @param options.includeText text collections: also each record's `text`.
   * @example
   * const { data } = await docs.fetch(['a']) // data.records: [{ id: 'a', values, metadata }]
   */
  fetch(
    ids: readonly string[],
    options: CallOptions & { includeText?: boolean } = {},
  ): Promise<MatchboxResult<{ records: VectorRecord<M>[] }>> {
    const { includeText, ...call } = options
    return this.#transport.call(
      `${this.#path}/fetch`,
      { method: 'POST', schema: FetchRequest, body: { ids, includeText } },
      call,
    )
  }

  /**
   * Deletes by ids or by a filter (an empty filter is refused).
   *
   * @example
   * await docs.delete({ filter: { year: { $lt: 2000 } } }) // data: { deleted: n }
   */
  delete(
    target: { ids: readonly string[] } | { filter: Filter<M> },
    options?: CallOptions,
  ): Promise<MatchboxResult<{ deleted: number }>> {
    return this.#transport.call(
      `${this.#path}/delete`,
      { method: 'POST', schema: DeleteRequest, body: target },
      options,
    )
  }

  /**
   * The nearest records, nearest first; with a filter, topK whenever topK records match. In a
   * text collection, `text` searches by keywords, and with `vector` or `id` too, both (hybrid):
   * each match then has a `score` and its `ranks`.
   *
   * @example
   * const { data } = await docs.query({ vector: [1, 0, 0], topK: 3 })
   * // data.matches: [{ id: 'a', distance: 0, metadata: {…} }, …]
   * @example Hybrid, in a collection made with --text
   * const { data } = await docs.query({ text: 'vector index', vector, topK: 5 })
   * // data.matches: [{ id: 'a', score: 0.0328, ranks: { text: 1, vector: 2 }, distance: 0.1 }, …]
   */
  query(
    query: TextQueryInput<M>,
    options?: CallOptions,
  ): Promise<MatchboxResult<TextQueryResponse<M>>>
  query(
    query: QueryInput<M>,
    options?: CallOptions,
  ): Promise<MatchboxResult<{ matches: QueryMatch<M>[] }>>
  query(
    query: QueryInput<M> | TextQueryInput<M>,
    options?: CallOptions,
  ): Promise<MatchboxResult<{ matches: (QueryMatch<M> | TextMatch<M>)[] }>> {
    return this.#transport.call(
      `${this.#path}/query`,
      { method: 'POST', schema: QueryRequest, body: query },
      options,
    )
  }

  /**
   * Several vector queries in one request and one transaction (at most 100): `data.results`
   * holds each one's `{ matches }`, in order. One bad query refuses the batch, naming its index.
   *
   * @example
   * const { data } = await docs.queryMany([{ vector: a, topK: 3 }, { id: 'b', topK: 3 }])
   * // data.results: [{ matches: […] }, { matches: […] }]
   */
  queryMany(
    queries: readonly QueryInput<M>[],
    options?: CallOptions,
  ): Promise<MatchboxResult<{ results: { matches: QueryMatch<M>[] }[] }>> {
    return this.#transport.call(
      `${this.#path}/query`,
      { method: 'POST', schema: BatchQueryRequest, body: { queries } },
      options,
    )
  }

  /**
   * Runs a query and also says how it ran: `scan` (the vector index or an exact scan) and
   * `plan` (EXPLAIN of the statement that answered). Needs the service_role key.
   *
   * @example
   * const { data } = await docs.explain({ vector, topK: 5, filter: { year: 2024 } })
   * // { matches: […], scan: 'exact', plan: ['Limit  (cost=…)', …] }
   */
  explain(query: QueryInput<M>, options?: CallOptions): Promise<MatchboxResult<QueryResponse<M>>> {
    return this.#transport.call(
      `${this.#path}/query`,
      { method: 'POST', schema: QueryRequest, body: { ...query, explain: true } },
      options,
    )
  }

  /**
   * One page of ids, in id order; pass `nextCursor` back for the next page (null at the end).
   *
   * @example
   * const { data } = await docs.list({ limit: 100, prefix: 'doc-' })
   * // data: { ids: ['doc-1', …], nextCursor: '…' }
   */
  list(input: ListInput<M> = {}, options?: CallOptions): Promise<MatchboxResult<ListResponse>> {
    return this.#transport.call(
      `${this.#path}/list`,
      { method: 'POST', schema: ListRequest, body: input },
      options,
    )
  }

  /**
   * Every id the caller sees (or a filter's, or a prefix's), page after page; a failed page
   * throws its MatchboxError, since an iterator has no `{ data, error }` to resolve to.
   *
   * @example
   * for await (const id of docs.ids({ filter: { category: 'news' } })) console.log(id)
   */
  async *ids(
    input: Omit<ListInput<M>, 'cursor' | 'limit'> & { pageSize?: number } = {},
    options?: CallOptions,
  ): AsyncGenerator<string, void, undefined> {
    const { pageSize = MAX_LIST_LIMIT, ...listing } = input
    let cursor: string | null = null
    do {
      const page = await this.list({ ...listing, limit: pageSize, cursor }, options)
      if (page.error) throw page.error
      yield* page.data.ids
      cursor = page.data.nextCursor
    } while (cursor !== null)
  }

  /**
   * Patches metadata (and, by id, values) without resending what stays.
   *
   * @example
   * await docs.update({ id: 'a', metadata: { year: 2025 } }) // data: { updated: 1 }
   * await docs.update({ filter: { category: 'blog' }, metadata: { archived: true } })
   */
  update(input: UpdateInput<M>, options?: CallOptions): Promise<MatchboxResult<UpdateResponse>> {
    return this.#transport.call(
      `${this.#path}/update`,
      { method: 'POST', schema: UpdateRequest, body: input },
      options,
    )
  }

  /**
   * How many records the caller sees, exactly; with a filter, how many match it.
   *
   * @example
   * const { data } = await docs.count({ filter: { year: 2024 } }) // data: { count: 12 }
   */
  count(
    input: { filter?: Filter<M> } = {},
    options?: CallOptions,
  ): Promise<MatchboxResult<CountResponse>> {
    return this.#transport.call(
      `${this.#path}/count`,
      { method: 'POST', schema: CountRequest, body: input },
      options,
    )
  }

  /** The collection's dimensions, type, metric, index, access mode and estimated row count. */
  describe(options?: CallOptions): Promise<MatchboxResult<CollectionDescription>> {
    return this.#transport.call(`${this.#path}/describe`, { method: 'GET' }, options)
  }
}
