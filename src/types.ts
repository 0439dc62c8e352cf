/** Public types of the SDK, inferred from the contract the functions validate with. */
import type { MatchboxError } from './errors.ts'

export type {
  InsertItemsRequest,
  InsertItemsResponse,
  Match,
  MatchItemsRequest,
  MatchItemsResponse,
} from '../supabase/functions/_shared/contract.ts'

/** What every SDK call resolves to, as in supabase-js: data or an error, never both. */
export type MatchboxResult<T> = { data: T; error: null } | { data: null; error: MatchboxError }

/** Options of one call. */
export interface CallOptions {
  /** Aborts the request. */
  signal?: AbortSignal
}

/** Options of one search. */
export interface MatchOptions extends CallOptions {
  /**
   * pgvector's `hnsw.ef_search` for this search, 1 to 1000 (default 100, `DEFAULT_EF_SEARCH`):
   * higher finds more of the true nearest neighbours, more slowly.
   */
  efSearch?: number
}
