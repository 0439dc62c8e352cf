/**
 * The layers a search can go through, from the bare SQL to the SDK, each answering the same
 * top 10 for the same query and `ef_search`, with the same columns (id, embedding, distance)
 * parsed into the same shape, so that what one layer adds over another is its own cost.
 * `minimal` is the limit of an HTTP hop: a bare Deno server running the raw search
 * (bench/minimal-server.ts); `vectors` is a collection's query route, on a copy of the rows.
 *
 * Every layer sets `hnsw.iterative_scan = strict_order`, as `match_items` does, except
 * `sql-iter-off`, which shows what that setting costs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import postgres from 'postgres'
import { createItemsClient } from '../src/index.ts'
import { stopChild } from '../stack/functions-server.ts'
import { binary, ROOT, SUPABASE_DIR } from '../stack/paths.ts'
import { freePort } from '../stack/ports.ts'
import { METRIC_OPERATORS } from '../supabase/functions/_shared/vector-kinds.ts'
import type { Tier } from './database.ts'
import { type Metric, PGVECTOR_METRIC } from './dataset.ts'

/** The number of neighbours every search asks for. */
export const K = 10

/** One way to run a search. */
export interface SearchLayer {
  name: LayerName
  /** What the layer does per request, for the report. */
  description: string
  /** The ids of the `K` nearest rows, nearest first. */
  search(embedding: readonly number[], efSearch: number): Promise<number[]>
  /**
   * Queries per request, for a layer that sends them in batches: `searchMany` then answers
   * each one's ids, in order, and the cells count queries, not requests.
   */
  batch?: number
  searchMany?(embeddings: readonly (readonly number[])[], efSearch: number): Promise<number[][]>
  /** The process of a server the layer started for itself (the minimal server), for its CPU. */
  serverPid?: number
  close(): Promise<void>
}

/** Every layer, in the order of the path a request takes. */
export const LAYER_NAMES = [
  'sql',
  'sql-bare',
  'sql-iter-off',
  'rpc',
  'minimal',
  'function',
  'sdk',
  'vectors',
  'vectors-batch10',
  'vectors-batch100',
] as const
export type LayerName = (typeof LAYER_NAMES)[number]

/** What the layers need: the database, the functions' URL and key, and the pool sizes. */
export interface LayerContext {
  dbUrl: string
  apiUrl: string
  anonKey: string
  metric: Metric
  /** Connections of each SQL layer's pool, and of the minimal server's. */
  poolSize: number
  /** The collection the `vectors` layer queries: the same rows as `public.items`. */
  collection: string
  tier: Tier
}

interface Row {
  id: string
  embedding: string
  distance: number
}

const CONNECTION = { application_name: 'matchbox-bench' }

/**
 * A `K` nearest search in plain SQL with the metric's operator: the query users write, with
 * names qualified (PGlite ignores a connection's `search_path` option).
 */
function rawQuery(metric: Metric): string {
  const op = `operator(extensions.${METRIC_OPERATORS[PGVECTOR_METRIC[metric]]})`
  return `select id, embedding::text as embedding, embedding ${op} $1::extensions.vector as distance
    from public.items order by embedding ${op} $1::extensions.vector limit ${K}`
}

function sqlPool(context: LayerContext, settings: Record<string, string> = {}): postgres.Sql {
  return postgres(context.dbUrl, {
    max: context.poolSize,
    onnotice: () => {},
    connect_timeout: 10,
    // No type lookup when a connection opens: it would be a statement outside a transaction,
    // which PGlite's socket server may interleave with another connection's (see database.ts).
    fetch_types: false,
    connection: { ...CONNECTION, ...settings },
  })
}

/** pgvector's text form, built per request as pgvector-node's `toSql` does. */
function literal(embedding: readonly number[]): string {
  return `[${embedding.join(',')}]`
}

/** Ids and parsed embeddings, as every layer hands them back. */
function idsOf(rows: readonly Row[]): number[] {
  return rows.map((row) => {
    JSON.parse(row.embedding)
    return Number(row.id)
  })
}

/**
 * A layer whose request is one transaction: a statement of settings pipelined with the query
 * (`statements` makes both from the embedding's text form and `ef_search`).
 */
function transactionLayer(
  context: LayerContext,
  name: LayerName,
  description: string,
  statements: (
    tx: postgres.TransactionSql,
    vector: string,
    efSearch: number,
  ) => [postgres.PendingQuery<postgres.Row[]>, postgres.PendingQuery<Row[]>],
): SearchLayer {
  const sql = sqlPool(context)
  return {
    name,
    description,
    async search(embedding, efSearch) {
      const [, rows] = await sql.begin((tx) => statements(tx, literal(embedding), efSearch))
      return idsOf(rows)
    },
    close: () => sql.end(),
  }
}

/**
 * Raw SQL in a transaction that sets `hnsw.ef_search` and `hnsw.iterative_scan` for itself
 * (`set_config(…, true)`, pipelined with the query): the ceiling the targets compare with.
 */
function sqlLayer(context: LayerContext): SearchLayer {
  const query = rawQuery(context.metric)
  return transactionLayer(
    context,
    'sql',
    "postgres.js transaction: set_config('hnsw.ef_search'), set_config('hnsw.iterative_scan', 'strict_order'), then the query",
    (tx, vector, efSearch) => [
      tx`select set_config('hnsw.ef_search', ${String(efSearch)}, true),
        set_config('hnsw.iterative_scan', 'strict_order', true)`,
      tx.unsafe<Row[]>(query, [vector], { prepare: true }),
    ],
  )
}

/**
 * The bare query with no transaction: `hnsw.ef_search` and `hnsw.iterative_scan` are set for
 * the connection when it opens (a pool per `ef_search`), so a request is one statement.
 */
function bareLayer(context: LayerContext, name: LayerName, iterativeScan: string): SearchLayer {
  const query = rawQuery(context.metric)
  let pool: { efSearch: number; sql: postgres.Sql } | undefined
  return {
    name,
    description:
      iterativeScan === 'off'
        ? 'the bare query, hnsw.iterative_scan off (pgvector default), ef_search per connection'
        : 'the bare query, no transaction; ef_search and strict_order set per connection',
    async search(embedding, efSearch) {
      if (pool?.efSearch !== efSearch) {
        // Swapped before any await, so that the cell's other workers take the new pool rather
        // than each open one of their own (and leave all but the last open).
        const previous = pool
        pool = {
          efSearch,
          sql: sqlPool(context, {
            'hnsw.ef_search': String(efSearch),
            'hnsw.iterative_scan': iterativeScan,
          }),
        }
        await previous?.sql.end()
      }
      const rows = await pool.sql.unsafe<Row[]>(query, [literal(embedding)], { prepare: true })
      return idsOf(rows)
    },
    close: async () => {
      await pool?.sql.end()
    },
  }
}

/**
 * `public.match_items` as PostgREST's RPC runs it: one transaction that takes on the `anon`
 * role and its claims (and here `ef_search`), then calls the function.
 */
function rpcLayer(context: LayerContext): SearchLayer {
  const claims = JSON.stringify({ role: 'anon' })
  return transactionLayer(
    context,
    'rpc',
    'postgres.js transaction: set_config(role anon, request.jwt.claims, hnsw.ef_search), then select … from public.match_items($1, 10)',
    (tx, vector, efSearch) => [
      tx`select set_config('role', 'anon', true),
        set_config('request.jwt.claims', ${claims}, true),
        set_config('hnsw.ef_search', ${String(efSearch)}, true)`,
      tx<Row[]>`select id, embedding::text as embedding, distance
        from public.match_items(${vector}::extensions.vector, ${K})`,
    ],
  )
}

/** The `match-items` edge function over HTTP through the gateway, with the anon key. */
function functionLayer(context: LayerContext): SearchLayer {
  const url = `${context.apiUrl}/functions/v1/match-items`
  const headers = {
    authorization: `Bearer ${context.anonKey}`,
    apikey: context.anonKey,
    'content-type': 'application/json',
  }
  return {
    name: 'function',
    description: 'fetch: POST /functions/v1/match-items {embedding, count, efSearch}, anon key',
    async search(embedding, efSearch) {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ embedding, count: K, efSearch }),
      })
      const body = (await response.json()) as { matches?: { id: number }[] }
      if (!response.ok || !body.matches) throw new Error(`HTTP ${response.status}`)
      return body.matches.map((match) => match.id)
    },
    close: async () => {},
  }
}

/** The SDK: `createItemsClient({ url, key }).matchItems(embedding, 10, { efSearch })`. */
function sdkLayer(context: LayerContext): SearchLayer {
  const items = createItemsClient({ url: context.apiUrl, key: context.anonKey })
  return {
    name: 'sdk',
    description: 'createItemsClient({ url, key: anon }).matchItems(embedding, 10, { efSearch })',
    async search(embedding, efSearch) {
      const { data, error } = await items.matchItems(embedding, K, { efSearch })
      if (error) throw error
      return data.matches.map((match) => match.id)
    },
    close: async () => {},
  }
}

/**
 * The raw search through bench/minimal-server.ts: one HTTP hop to a bare Deno server with
 * postgres.js, no auth, no validation, the transaction as the functions send it.
 */
async function minimalLayer(context: LayerContext): Promise<SearchLayer> {
  const port = await freePort()
  const server = await startMinimalServer(context, port)
  const url = `http://127.0.0.1:${port}/`
  return {
    name: 'minimal',
    description:
      "fetch to a bare Deno.serve + postgres.js: begin, set_config(role anon, claims, ef_search, strict_order), the sql layer's query, commit, in one write; the vector's text as sent; no auth, no validation",
    serverPid: server.pid,
    async search(embedding, efSearch) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ embedding, efSearch }),
      })
      const body = (await response.json()) as { matches?: { id: number }[]; error?: string }
      if (!response.ok || !body.matches) throw new Error(`HTTP ${response.status}: ${body.error}`)
      return body.matches.map((match) => match.id)
    },
    close: () => stopChild(server),
  }
}

/** Starts bench/minimal-server.ts on `port`; resolves once it listens. */
export function startMinimalServer(context: LayerContext, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary('deno'),
    [
      'run',
      '--quiet',
      // The functions' import map and lock: the same postgres.js as theirs.
      `--config=${path.join(SUPABASE_DIR, 'functions', 'deno.json')}`,
      '--allow-net',
      '--allow-env',
      path.join(ROOT, 'bench', 'minimal-server.ts'),
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        MINIMAL_DB_URL: context.dbUrl,
        MINIMAL_PORT: String(port),
        MINIMAL_POOL_SIZE: String(context.poolSize),
        MINIMAL_STATEMENT: rawQuery(context.metric),
        // PGlite may interleave other connections' messages until the transaction is open.
        MINIMAL_AWAIT_BEGIN: context.tier === 'pglite' ? '1' : '',
        NO_COLOR: '1',
      },
    },
  )
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{"ready":true')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`the minimal server exited (${code})`)))
  })
}

/** The collection's query route and the anon key's headers, for the vectors layers. */
function vectorsRoute(context: LayerContext): { url: string; headers: Record<string, string> } {
  return {
    url: `${context.apiUrl}/functions/v1/vectors/${context.collection}/query`,
    headers: {
      authorization: `Bearer ${context.anonKey}`,
      apikey: context.anonKey,
      'content-type': 'application/json',
    },
  }
}

/** One query as the vectors layers send it: the values back (as the other layers), no metadata. */
function vectorsQuery(vector: readonly number[], efSearch: number) {
  return { vector, topK: K, efSearch, includeValues: true, includeMetadata: false }
}

/**
 * A collection's query route, `POST /functions/v1/vectors/<collection>/query`, with the anon
 * key, asking for the values (the embeddings) and no metadata, as the other layers do.
 */
function vectorsLayer(context: LayerContext): SearchLayer {
  const { url, headers } = vectorsRoute(context)
  return {
    name: 'vectors',
    description: `fetch: POST /functions/v1/vectors/${context.collection}/query {vector, topK, efSearch, includeValues, no metadata}, anon key`,
    async search(embedding, efSearch) {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(vectorsQuery(embedding, efSearch)),
      })
      const body = (await response.json()) as {
        matches?: { id: string }[]
        error?: { message: string }
      }
      if (!response.ok || !body.matches) {
        throw new Error(`HTTP ${response.status}: ${body.error?.message}`)
      }
      return body.matches.map((match) => Number(match.id))
    },
    close: async () => {},
  }
}

/**
 * Batches of `size` queries in one request, `{"queries":[…]}` on the same route: one
 * transaction answers them all, so the HTTP hop is paid once per batch.
 */
function vectorsBatchLayer(context: LayerContext, name: LayerName, size: number): SearchLayer {
  const single = vectorsLayer(context)
  const { url, headers } = vectorsRoute(context)
  return {
    name,
    description: `fetch: POST /functions/v1/vectors/${context.collection}/query {"queries": [${size} queries as the vectors layer's]}, anon key; QPS counts queries`,
    batch: size,
    search: single.search,
    async searchMany(embeddings, efSearch) {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          queries: embeddings.map((vector) => vectorsQuery(vector, efSearch)),
        }),
      })
      const body = (await response.json()) as {
        results?: { matches: { id: string }[] }[]
        error?: { message: string }
      }
      if (!response.ok || !body.results) {
        throw new Error(`HTTP ${response.status}: ${body.error?.message}`)
      }
      return body.results.map((result) => result.matches.map((match) => Number(match.id)))
    },
    close: async () => {},
  }
}

/** The layer called `name`; the minimal layer's server is started before it resolves. */
export async function createLayer(name: LayerName, context: LayerContext): Promise<SearchLayer> {
  switch (name) {
    case 'sql':
      return sqlLayer(context)
    case 'sql-bare':
      return bareLayer(context, name, 'strict_order')
    case 'sql-iter-off':
      return bareLayer(context, name, 'off')
    case 'rpc':
      return rpcLayer(context)
    case 'function':
      return functionLayer(context)
    case 'minimal':
      return await minimalLayer(context)
    case 'sdk':
      return sdkLayer(context)
    case 'vectors':
      return vectorsLayer(context)
    case 'vectors-batch10':
      return vectorsBatchLayer(context, name, 10)
    case 'vectors-batch100':
      return vectorsBatchLayer(context, name, 100)
  }
}

/**
 * Whether a layer runs for `metric` on `tier`. match_items (`rpc`, `function`, `sdk`) searches
 * by cosine distance only; the raw query, the minimal server and a collection take any metric.
 * The bare layers need settings per connection, which PGlite ignores (its connections share
 * one session), and statements outside a transaction, which PGlite's socket server may
 * interleave between connections.
 */
export function layerSupports(name: LayerName, metric: Metric, tier: Tier): boolean {
  if (tier === 'pglite' && (name === 'sql-bare' || name === 'sql-iter-off')) return false
  return metric === 'cosine' || !ITEMS_LAYERS.has(name)
}

/** The layers that search through `match_items`, which is cosine only. */
const ITEMS_LAYERS: ReadonlySet<LayerName> = new Set(['rpc', 'function', 'sdk'])

/** Whether a layer goes through the functions server. */
export function usesFunctions(name: LayerName): boolean {
  return name === 'function' || name === 'sdk' || name.startsWith('vectors')
}

/**
 * One request through `layer`: the query `index` (or, for a batch layer, the `batch` queries
 * from `index * batch` on), scored by `score`; answers the mean score.
 */
export async function searchRequest(
  layer: SearchLayer,
  queries: readonly (readonly number[])[],
  index: number,
  efSearch: number,
  score: (ids: number[], query: number) => number,
): Promise<number> {
  if (!layer.batch || !layer.searchMany) {
    const q = index % queries.length
    return score(await layer.search(queries[q]!, efSearch), q)
  }
  const picked = Array.from(
    { length: layer.batch },
    (_, j) => (index * layer.batch! + j) % queries.length,
  )
  const answers = await layer.searchMany(
    picked.map((q) => queries[q]!),
    efSearch,
  )
  if (answers.length !== picked.length) {
    throw new Error(`${answers.length} answers to a batch of ${picked.length}`)
  }
  return answers.reduce((sum, ids, j) => sum + score(ids, picked[j]!), 0) / picked.length
}
