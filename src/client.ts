/**
 * The items client: the tutorial's insert and search over the `items` and `match-items`
 * edge functions, with `{ data, error }` results like supabase-js.
 */
import {
  FUNCTION_NAMES,
  InsertItemsRequest,
  type InsertItemsResponse,
  MatchItemsBatchRequest,
  MatchItemsRequest,
  type MatchItemsResponse,
} from '../supabase/functions/_shared/contract.ts'
import {
  type ClientOptions,
  type ClientSource,
  type FunctionsInvoker,
  Transport,
} from './transport.ts'
import type { CallOptions, MatchboxResult, MatchOptions } from './types.ts'

export type { FunctionsInvoker }

/** Connection settings for a client made without supabase-js. */
export type ItemsClientOptions = ClientOptions

/** Either connection settings or a supabase-js client (anything with `functions.invoke`). */
export type ItemsClientSource = ClientSource

/**
 * Creates a client for the `items` functions.
 *
 * @example
 * const items = createItemsClient({ url: 'http://127.0.0.1:54321', key: anonKey })
 * const { data, error } = await items.matchItems([3, 1, 2], 4)
 * // data.matches[0]: { id: 21, embedding: [3, 1, 2], distance: 0 }
 *
 * @example With supabase-js, whose session's token is sent
 * const items = createItemsClient(createClient(url, anonKey))
 */
export function createItemsClient(source: ItemsClientSource): ItemsClient {
  return new ItemsClient(source)
}

/** Inserts and searches the tutorial's `items` table through its edge functions. */
export class ItemsClient {
  readonly #transport: Transport

  constructor(source: ItemsClientSource | Transport) {
    this.#transport = source instanceof Transport ? source : new Transport(source)
  }

  /**
   * The `count` items nearest to `embedding` by cosine distance, nearest first. `data` is the
   * function's answer, `{ matches }`, as every SDK call's `data` is its function's answer.
   *
   * @param count 1 to 200 (default 10).
   * @example
   * const { data } = await items.matchItems([3, 1, 2], 4)
   * // data.matches: [{ id: 21, embedding: [3, 1, 2], distance: 0 }, …]
   * @example Trading speed for recall
   * await items.matchItems(embedding, 10, { efSearch: 100 })
   */
  matchItems(
    embedding: readonly number[],
    count?: number,
    options: MatchOptions = {},
  ): Promise<MatchboxResult<MatchItemsResponse>> {
    const { efSearch, ...call } = options
    return this.#transport.call<MatchItemsResponse>(
      FUNCTION_NAMES.matchItems,
      {
        method: 'POST',
        schema: MatchItemsRequest,
        body: { embedding: [...embedding], count, efSearch },
      },
      call,
    )
  }

  /**
   * Several searches in one request and one transaction (at most 100 embeddings, one `count`):
   * `data.results` holds each one's `{ matches }`, in the order of `embeddings`.
   *
   * @example
   * const { data } = await items.matchItemsMany([[3, 1, 2], [1, 1, 1]], 4)
   * // data.results: [{ matches: […] }, { matches: […] }]
   */
  matchItemsMany(
    embeddings: readonly (readonly number[])[],
    count?: number,
    options: MatchOptions = {},
  ): Promise<MatchboxResult<{ results: MatchItemsResponse[] }>> {
    const { efSearch, ...call } = options
    return this.#transport.call(
      FUNCTION_NAMES.matchItems,
      {
        method: 'POST',
        schema: MatchItemsBatchRequest,
        body: { embeddings: embeddings.map((embedding) => [...embedding]), count, efSearch },
      },
      call,
    )
  }

  /**
   * Inserts embeddings, all or nothing (at most 1000 a call); needs the service_role key.
   *
   * @returns `{ ids }`: the new ids, in the order of `embeddings`.
   * @example
   * const { data } = await items.insertItems([[1, 2, 3], [1, 1, 1]])
   * // data.ids: [29, 30]
   */
  insertItems(
    embeddings: readonly (readonly number[])[],
    options: CallOptions = {},
  ): Promise<MatchboxResult<InsertItemsResponse>> {
    const body = { items: embeddings.map((embedding) => ({ embedding: [...embedding] })) }
    return this.#transport.call<InsertItemsResponse>(
      FUNCTION_NAMES.items,
      { method: 'POST', schema: InsertItemsRequest, body },
      options,
    )
  }
}
