/**
 * The playground server's JSON, as the page reads it and the server writes it: one set of
 * types (and the one default they share) for both sides (playground/server/server.ts and
 * playground/web/api.ts).
 */
import type { ErrorBody } from '../../supabase/functions/_shared/contract.ts'
import type { Metric, VectorType } from '../../supabase/functions/_shared/vector-kinds.ts'
import type { AccessMode, VectorValues } from '../../src/index.ts'

// The functions' own: every refusal of the playground server has their `ErrorBody` shape,
// and a metric is named as pgvector's operator classes name it (`vector_cosine_ops`).
export type { AccessMode, ErrorBody, Metric, VectorType, VectorValues }

/** `GET /config.json`: where the functions are and the keys to call them with. */
export interface PlaygroundConfig {
  apiUrl: string
  anonKey: string
  serviceRoleKey: string
}

/**
 * Which API serves a collection: the tutorial's `items` (the items and match-items
 * functions, `client.items`), or a collection made by `collection:new` (the vectors
 * function, `client.collection(name)`).
 */
export type CollectionKind = 'items' | 'collection'

/** One searchable table, described from the database's catalog. */
export interface CollectionInfo {
  /** What the page and the routes call it, e.g. `items`. */
  name: string
  /** Which SDK calls insert into it and search it. */
  kind: CollectionKind
  /** The qualified table, e.g. `public.items`. */
  table: string
  /** The vector column. */
  column: string
  /** The column's type as the catalog formats it, e.g. `extensions.vector(3)`. */
  type: string
  /** pgvector's type of the column, without the modifier: how its values are written. */
  vectorType: VectorType
  /** The column's dimension count (its type modifier). */
  dimensions: number
  /**
   * The metric of the column's vector index; for a collection without one, the metric its
   * marker comment declares (which the vectors function searches by); otherwise null.
   */
  metric: Metric | null
  /** The name of the column's vector index (HNSW or IVFFlat), or null. */
  index: string | null
  /** How many rows the table holds. */
  rows: number
  /** Who reads and writes its rows, as its marker declares (`items` is public). */
  access: AccessMode
  /**
   * A text collection's (`--text`) text search configuration, e.g. `pg_catalog.english`: its
   * records have a text, searched by keywords alone or fused with the vector search. Else null.
   */
  textLanguage: string | null
}

/** `GET /api/collections`. */
export interface CollectionsResponse {
  collections: CollectionInfo[]
}

/** One stored row, as the rows table and the scatter show it. */
export interface Row {
  /** A number for `items` (bigint ids, as its functions answer them); text in a collection. */
  id: number | string
  /** In the JSON form the functions use for the column's type (see vector-values.ts). */
  embedding: VectorValues
  /** A collection's metadata; `items` has none. */
  metadata?: Record<string, unknown>
  /** Whose it is (`owner_id` or `tenant_id`), in an owner or tenant collection, to service_role. */
  owner?: string
  /** A text collection's record text (null when it has none). */
  text?: string | null
}

/** How many rows the page loads, and `GET /api/rows` answers when no `limit` is given. */
export const DEFAULT_ROWS = 500

/** `GET /api/rows?collection=…&limit=…`: the first `limit` rows by id, and how many there are. */
export interface RowsResponse {
  collection: string
  rows: Row[]
  total: number
  limit: number
}

/** `POST /api/explain` body: the search the page just ran. */
export interface ExplainRequest {
  collection: string
  embedding: number[]
  count: number
}

/** `POST /api/explain`: the plan of the search's query, and whether the vector index served it. */
export interface ExplainResponse {
  plan: string[]
  indexUsed: boolean
  /** The index the plan scans, if any. */
  index: string | null
}

/** What the EXPLAIN panel shows: for a collection, also the scan its query chose. */
export interface ExplainShown extends ExplainResponse {
  scan?: 'index' | 'exact'
}

/** `POST /api/token` body: the user to act as (a new one when absent), and their tenant. */
export interface TokenRequest {
  user?: string
  tenant?: string
}

/** `POST /api/token`: a user's access token, as Supabase Auth would issue it at sign-in. */
export interface TokenResponse {
  user: string
  tenant: string | null
  accessToken: string
  /** When the token expires, in seconds since the epoch (its `exp`). */
  expiresAt: number
}

/** `GET /api/owners?collection=…`: who owns the rows of an owner or tenant collection. */
export interface OwnersResponse {
  collection: string
  /** `owner_id` (user ids) or `tenant_id` (tenant ids). */
  column: 'owner_id' | 'tenant_id'
  /** The owners with the most rows first, at most `MAX_OWNERS` (collections.ts) of them. */
  owners: { value: string; rows: number }[]
}
