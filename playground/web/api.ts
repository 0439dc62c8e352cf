/**
 * The page's calls: inserts and searches through the SDK to the functions, as an app makes
 * them, and the playground server's reads (its config, collections, rows, an `items` plan).
 */
import {
  createMatchboxClient,
  type Metadata,
  type QueryInput,
  type UpsertRecordInput,
} from '../../src/index.ts'
import type {
  CollectionInfo,
  CollectionsResponse,
  ErrorBody,
  ExplainRequest,
  ExplainResponse,
  PlaygroundConfig,
  RowsResponse,
} from './types.ts'

/** `GET /config.json`: where the functions are, and the keys to call them with. */
export function getConfig(): Promise<PlaygroundConfig> {
  return server('/config.json')
}

/** `GET /api/collections`: `items`, then every collection, as the catalog describes them. */
export async function getCollections(): Promise<CollectionInfo[]> {
  return (await server<CollectionsResponse>('/api/collections')).collections
}

/** `GET /api/rows`: a collection's first rows by id, and how many it holds. */
export function getRows(collection: string): Promise<RowsResponse> {
  return server(`/api/rows?collection=${encodeURIComponent(collection)}`)
}

/** `POST /api/explain`: the plan of an `items` search (a collection's query answers its own). */
export function explainItemsSearch(request: ExplainRequest): Promise<ExplainResponse> {
  return server('/api/explain', request)
}

/** A GET or POST to the playground server; its `{"error"}` answers become thrown errors. */
async function server<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(
    path,
    body === undefined
      ? undefined
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  )
  const answer = (await response.json()) as T | ErrorBody
  if (!response.ok) {
    const { error } = answer as ErrorBody
    throw new Error(`${path}: ${error?.message ?? `HTTP ${response.status}`}`)
  }
  return answer as T
}

/**
 * The SDK calls the page makes, each with the key an app would use for it.
 *
 * @example
 * const api = connect(await getConfig())
 * const { data, error } = await api.matchItems([3, 1, 2], 4)
 */
export function connect(config: PlaygroundConfig) {
  const admin = createMatchboxClient({ url: config.apiUrl, key: config.serviceRoleKey })
  const visitor = createMatchboxClient({ url: config.apiUrl, key: config.anonKey })
  return {
    /** Inserts into `items`, with the service_role key. */
    insertItems: (vectors: number[][]) => admin.items.insertItems(vectors),
    /** Searches `items` with the anon key, as an app's visitors would. */
    matchItems: (query: number[], count: number) => visitor.items.matchItems(query, count),
    /** Upserts into a collection, with the service_role key. */
    upsert: (collection: string, records: UpsertRecordInput<Metadata>[]) =>
      admin.collection(collection).upsert(records),
    /**
     * Queries a collection and answers how it ran (`scan`, `plan`) in the same request, so
     * the plan is that of the statement that answered; `explain` needs the service_role key.
     */
    explainQuery: (collection: string, query: QueryInput<Record<string, unknown>>) =>
      admin.collection<Record<string, unknown>>(collection).explain(query),
  }
}

/** What `connect` answers. */
export type Api = ReturnType<typeof connect>
