/**
 * The page's calls: a collection's rows, inserts and searches through the SDK to the
 * functions, as an app makes them, as the identity the page acts as; and the playground
 * server's own routes (its config, collections, `items`' rows, owners, users' tokens, an
 * `items` plan).
 */
import {
  createMatchboxClient,
  type MatchboxClient,
  type MatchboxResult,
  type Metadata,
  type QueryInput,
  type QueryResponse,
  type TextQueryInput,
  type TextQueryResponse,
  type UpsertRecordInput,
  type VectorRecord,
} from '../../src/index.ts'
import { type Identity, identityKey, type User } from './identity.ts'
import {
  type CollectionInfo,
  type CollectionsResponse,
  DEFAULT_ROWS,
  type ErrorBody,
  type ExplainRequest,
  type ExplainResponse,
  type OwnersResponse,
  type PlaygroundConfig,
  type Row,
  type RowsResponse,
  type TokenRequest,
  type TokenResponse,
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

/** `GET /api/owners`: who owns the rows of an owner or tenant collection. */
export function getOwners(collection: string): Promise<OwnersResponse> {
  return server(`/api/owners?collection=${encodeURIComponent(collection)}`)
}

/** `POST /api/token`: a user's access token (a new user when `user` is absent). */
export function mintToken(request: TokenRequest): Promise<TokenResponse> {
  return server('/api/token', request)
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

/** A collection's first rows as a caller sees them, and how many they see in all. */
export interface Records {
  rows: Row[]
  total: number
}

/** A token is minted again when it has less than this left, in seconds. */
const TOKEN_MARGIN_SECONDS = 60

/**
 * The SDK calls the page makes, each as `as`: service_role and anon with their keys, a user
 * with the anon key and their access token (`accessToken`), as an app signed in as them.
 *
 * @example
 * const api = connect(await getConfig())
 * const { data, error } = await api.matchItems(ANON, [3, 1, 2], 4)
 */
export function connect(config: PlaygroundConfig) {
  const admin = createMatchboxClient({ url: config.apiUrl, key: config.serviceRoleKey })
  const visitor = createMatchboxClient({ url: config.apiUrl, key: config.anonKey })
  const sessions = new Map<string, { token: TokenResponse; client: MatchboxClient }>()

  /** Keeps a user's token, and a client that sends it. */
  const keep = (token: TokenResponse): User => {
    const user: User = {
      role: 'authenticated',
      user: token.user,
      ...(token.tenant === null ? {} : { tenant: token.tenant }),
    }
    const client = createMatchboxClient({
      url: config.apiUrl,
      key: config.anonKey,
      accessToken: token.accessToken,
    })
    sessions.set(identityKey(user), { token, client })
    return user
  }

  /** The client of `as`; a user's token is minted on first use and again before it expires. */
  const clientOf = async (as: Identity): Promise<MatchboxClient> => {
    if (as.role === 'service_role') return admin
    if (as.role === 'anon') return visitor
    const held = sessions.get(identityKey(as))
    if (held && held.token.expiresAt - Date.now() / 1000 > TOKEN_MARGIN_SECONDS) {
      return held.client
    }
    keep(
      await mintToken({ user: as.user, ...(as.tenant === undefined ? {} : { tenant: as.tenant }) }),
    )
    return sessions.get(identityKey(as))!.client
  }

  return {
    /** Mints a user's token (a new user when `user` is absent) and keeps it for their calls. */
    addUser: async (request: TokenRequest): Promise<User> => keep(await mintToken(request)),
    /** Inserts into `items` (service_role may; the others are refused, as in an app). */
    insertItems: async (as: Identity, vectors: number[][]) =>
      (await clientOf(as)).items.insertItems(vectors),
    /** Searches `items`, which everyone may read. */
    matchItems: async (as: Identity, query: number[], count: number) =>
      (await clientOf(as)).items.matchItems(query, count),
    /** Upserts into a collection; a user's records get their owner or tenant from the database. */
    upsert: async (as: Identity, collection: string, records: UpsertRecordInput<Metadata>[]) =>
      (await clientOf(as)).collection(collection).upsert(records),
    /**
     * Queries a collection. As service_role, the answer also says how it ran (`scan`, `plan`),
     * from the same request, so the plan is that of the statement that answered; `explain`
     * needs the service_role key, so others get the matches alone.
     */
    search: async (
      as: Identity,
      collection: string,
      query: QueryInput<Record<string, unknown>>,
    ): Promise<MatchboxResult<QueryResponse<Record<string, unknown>>>> => {
      const records = (await clientOf(as)).collection<Record<string, unknown>>(collection)
      return as.role === 'service_role' ? records.explain(query) : records.query(query)
    },
    /** Searches a text collection by keywords, alone or with a vector (hybrid): no plan. */
    searchText: async (
      as: Identity,
      collection: string,
      query: TextQueryInput<Record<string, unknown>>,
    ): Promise<MatchboxResult<TextQueryResponse<Record<string, unknown>>>> =>
      (await clientOf(as)).collection<Record<string, unknown>>(collection).query(query),
    /**
     * A collection's first `limit` rows by id (with a text collection's texts) and how many
     * there are, as `as` sees them: `list`, `fetch` and `count`, the calls an app makes, so
     * that a user sees their own rows.
     */
    readRecords: async (
      as: Identity,
      collection: CollectionInfo,
      limit = DEFAULT_ROWS,
    ): Promise<MatchboxResult<Records>> => {
      const records = (await clientOf(as)).collection<Record<string, unknown>>(collection.name)
      const [listed, counted] = await Promise.all([records.list({ limit }), records.count()])
      if (listed.error) return listed
      if (counted.error) return counted
      let found: VectorRecord[] = []
      if (listed.data.ids.length > 0) {
        const fetched = await records.fetch(listed.data.ids, {
          includeText: collection.textLanguage !== null,
        })
        if (fetched.error) return fetched
        found = fetched.data.records
      }
      // A text collection's record stored without a vector has no place among the points.
      const placed = found.filter(
        (record): record is VectorRecord & { values: NonNullable<VectorRecord['values']> } =>
          record.values !== null,
      )
      const rows = placed.map((record): Row => {
        const owner = record.owner_id ?? record.tenant_id
        return {
          id: record.id,
          embedding: record.values,
          metadata: record.metadata,
          ...(owner === undefined ? {} : { owner }),
          ...(record.text === undefined ? {} : { text: record.text }),
        }
      })
      return { data: { rows, total: counted.data.count }, error: null }
    },
  }
}

/** What `connect` answers. */
export type Api = ReturnType<typeof connect>
