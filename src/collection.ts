/**
 * A collection client: upsert, fetch, delete, query and describe over the `vectors` edge
 * function, typed by the collection's metadata.
 */
import {
  type CollectionDescription,
  DeleteRequest,
  FetchRequest,
  QueryRequest,
  type QueryMatch,
  type QueryResponse,
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
  /** Numbers (vector, halfvec), a 0/1 string or booleans (bit), or `{indices, values, dimensions}` (sparsevec). */
  values: VectorValuesInput
  metadata?: M
}

/** A query: by a vector or by the stored vector of an id. */
export type QueryInput<M extends Metadata> = (
  { vector: VectorValuesInput; id?: never } | { id: string; vector?: never }
) & {
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

/**
 * The records of one collection.
 *
 * @example
 * const docs = client.collection<{ category: string; year: number }>('docs')
 * await docs.upsert([{ id: 'a', values: embedding, metadata: { category: 'news', year: 2024 } }])
 * const { data } = await docs.query({ vector: embedding, topK: 5, filter: { year: { $gte: 2020 } } })
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

  /** Inserts records, replacing any with the same id; all or nothing (at most 1000 a call). */
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

  /** The records with these ids, in that order; missing ids are left out. */
  async fetch(
    ids: readonly string[],
    options?: CallOptions,
  ): Promise<MatchboxResult<VectorRecord<M>[]>> {
    const result = await this.#transport.call<{ records: VectorRecord<M>[] }>(
      `${this.#path}/fetch`,
      { method: 'POST', schema: FetchRequest, body: { ids } },
      options,
    )
    return result.error ? result : { data: result.data.records, error: null }
  }

  /** Deletes by ids or by a filter (an empty filter is refused). */
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

  /** The nearest records, nearest first; with a filter, topK whenever topK records match. */
  async query(
    query: QueryInput<M>,
    options?: CallOptions,
  ): Promise<MatchboxResult<QueryMatch<M>[]>> {
    const result = await this.#transport.call<{ matches: QueryMatch<M>[] }>(
      `${this.#path}/query`,
      { method: 'POST', schema: QueryRequest, body: query },
      options,
    )
    return result.error ? result : { data: result.data.matches, error: null }
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

  /** The collection's dimensions, type, metric, index and row count. */
  describe(options?: CallOptions): Promise<MatchboxResult<CollectionDescription>> {
    return this.#transport.call(`${this.#path}/describe`, { method: 'GET' }, options)
  }
}
