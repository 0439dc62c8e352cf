/**
 * The playground server's JSON, as the page reads it and the server writes it: one set of
 * types for both sides (scripts/stack/playground-server.ts and playground/main.ts).
 */

/** `GET /config.json`: where the functions are and the keys to call them with. */
export interface PlaygroundConfig {
  apiUrl: string
  anonKey: string
  serviceRoleKey: string
}

/** A distance metric, named as pgvector's operator classes name them (`vector_cosine_ops`). */
export type Metric = 'cosine' | 'l2' | 'inner_product' | 'l1' | 'hamming' | 'jaccard'

/** One searchable table, described from the database's catalog. */
export interface CollectionInfo {
  /** What the page and the routes call it, e.g. `items`. */
  name: string
  /** The qualified table, e.g. `public.items`. */
  table: string
  /** The vector column. */
  column: string
  /** The column's type as the catalog formats it, e.g. `extensions.vector(3)`. */
  type: string
  /** The column's dimension count (its type modifier). */
  dimensions: number
  /** The metric of the column's vector index, or null when it has none. */
  metric: Metric | null
  /** The name of the column's vector index (HNSW or IVFFlat), or null. */
  index: string | null
  /** How many rows the table holds. */
  rows: number
}

/** `GET /api/collections`. */
export interface CollectionsResponse {
  collections: CollectionInfo[]
}

/** One stored row, as the rows table and the scatter show it. */
export interface Row {
  id: number
  embedding: number[]
}

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

/** What every refusal of the playground server looks like, as the functions' refusals do. */
export interface ErrorBody {
  error: { code: string; message: string }
}
