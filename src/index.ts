/**
 * Matchbox: vector similarity search on Supabase, from TypeScript. Every call resolves to
 * `{ data, error }`, where `data` is the function's JSON answer (`{ matches }`, `{ records }`, …).
 *
 * @example
 * import { createMatchboxClient } from 'matchbox-vectors'
 * const client = createMatchboxClient({ url, key: anonKey })
 * const { data, error } = await client.items.matchItems([3, 1, 2], 4)
 * // data.matches: [{ id: 21, embedding: [3, 1, 2], distance: 0 }, …]
 */
export { createItemsClient, ItemsClient } from './client.ts'
export type { FunctionsInvoker, ItemsClientOptions, ItemsClientSource } from './client.ts'
export {
  MatchboxError,
  MatchboxFetchError,
  MatchboxHttpError,
  MatchboxValidationError,
} from './errors.ts'
export type * from './types.ts'
export {
  DEFAULT_EF_SEARCH,
  DEFAULT_MATCH_COUNT,
  MAX_BODY_BYTES,
  MAX_INSERT_BATCH,
  MAX_MATCH_BATCH,
  MAX_MATCH_COUNT,
} from '../supabase/functions/_shared/contract.ts'
export type { Database } from './database.types.ts'
export { createMatchboxClient } from './matchbox.ts'
export type { MatchboxClient } from './matchbox.ts'
export { CollectionClient } from './collection.ts'
export type {
  ListInput,
  Metadata,
  QueryInput,
  TextQueryInput,
  UpdateInput,
  UpsertRecordInput,
} from './collection.ts'
export type { FieldOperators, FieldPath, Filter } from './filter.ts'
export type { ClientOptions, ClientSource } from './transport.ts'
export type {
  AccessMode,
  CollectionDescription,
  CountResponse,
  ListResponse,
  QueryMatch,
  QueryResponse,
  SparseValues,
  TextMatch,
  TextQueryResponse,
  UpdateResponse,
  VectorRecord,
  VectorValues,
  VectorValuesInput,
} from '../supabase/functions/_shared/vectors-contract.ts'
export {
  MAX_BATCH_QUERIES,
  MAX_LIST_LIMIT,
  MAX_RECORDS_PER_REQUEST,
  MAX_TOP_K,
} from '../supabase/functions/_shared/vectors-contract.ts'
