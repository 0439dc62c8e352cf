/**
 * The playground's server: the page, the keys it calls the functions with, users' access
 * tokens, and the reads the SDK has no call for (collections, rows, owners, the plan of an
 * `items` search). A local tool like Supabase Studio, which holds the service_role key too:
 * 127.0.0.1 only, for that host only.
 */
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import postgres from 'postgres'
import { z } from 'zod'
import { describeIssue, MatchItemsRequest } from '../../supabase/functions/_shared/contract.ts'
import { HttpError } from '../../supabase/functions/_shared/errors.ts'
import {
  answerError,
  errorResponse,
  jsonResponse,
  readJson,
} from '../../supabase/functions/_shared/http.ts'
import { MAX_TENANT_ID_LENGTH, OwnerId } from '../../supabase/functions/_shared/vectors-contract.ts'
import { signUserToken, stackJwtSecret } from '../../stack/keys.ts'
import {
  type CollectionInfo,
  type CollectionsResponse,
  DEFAULT_ROWS,
  type ExplainResponse,
  type OwnersResponse,
  type PlaygroundConfig,
  type RowsResponse,
  type TokenResponse,
} from '../web/types.ts'
import { type Asset, bundlePlayground, PLAYGROUND_DIR } from './bundle.ts'
import {
  describeCollection,
  describeCollections,
  explainSearch,
  findCollection,
  MAX_ROWS,
  ownerColumn,
  readOwners,
  readRows,
} from './collections.ts'
import { type FetchHandler, serveWithNode } from './node-http.ts'

/** What the playground server needs: its port, and the stack it shows. */
export interface PlaygroundServerOptions {
  port: number
  apiUrl: string
  dbUrl: string
  anonKey: string
  serviceRoleKey: string
  /**
   * The secret users' access tokens are signed with: by default the one `anonKey` was signed
   * with, found as `npm run token` finds it (SUPABASE_AUTH_JWT_SECRET, else the local one).
   */
  jwtSecret?: string
  /** Receives a line for each failure worth a developer's attention. */
  log?: (line: string) => void
}

/** A running playground server. */
export interface PlaygroundServer {
  url: string
  stop(): Promise<void>
}

/** Largest request body the server reads: an EXPLAIN of a 16,000-dimension query fits. */
const MAX_BODY_BYTES = 1024 * 1024

/**
 * `POST /api/explain`: a `match-items` body, plus the collection it searched (`items`: a
 * collection's query answers its own plan).
 */
const ExplainBody = MatchItemsRequest.extend({
  collection: z.string({ error: 'expected a collection name' }),
})

/** `POST /api/token`: the user (a new one when absent) and their tenant, as `npm run token` takes them. */
const TokenBody = z.strictObject({
  user: OwnerId.optional(),
  tenant: z
    .string({ error: 'expected a tenant id (a string)' })
    .min(1, { error: 'expected a non-empty tenant id' })
    .max(MAX_TENANT_ID_LENGTH, { error: `expected at most ${MAX_TENANT_ID_LENGTH} characters` })
    .optional(),
})

/** How long a user's token lasts: Supabase Auth's default. The page mints another before then. */
const TOKEN_LIFETIME_SECONDS = 3600

// Unknown query parameters are ignored, as URLs often carry some (a cache-buster, say).
const CollectionQuery = z.object({
  collection: z.string({ error: 'expected a collection name, e.g. ?collection=items' }),
})

const RowsQuery = CollectionQuery.extend({
  limit: z.coerce
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(1, { error: 'expected at least 1' })
    .max(MAX_ROWS, { error: `expected at most ${MAX_ROWS}` })
    .default(DEFAULT_ROWS),
})

/**
 * Serves the playground on 127.0.0.1:`port` until `stop()`.
 *
 * @example
 * const playground = await startPlaygroundServer({ port: 54323, apiUrl, dbUrl, anonKey, serviceRoleKey })
 * console.log(playground.url) // http://127.0.0.1:54323
 */
export async function startPlaygroundServer(
  options: PlaygroundServerOptions,
): Promise<PlaygroundServer> {
  const log = options.log ?? ((line: string) => console.log(line))
  // One connection: the embedded database runs one query at a time anyway.
  const sql = postgres(options.dbUrl, {
    max: 1,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: 'matchbox-playground' },
  })
  let port = options.port
  const handle = createHandler({
    sql,
    config: {
      apiUrl: options.apiUrl,
      anonKey: options.anonKey,
      serviceRoleKey: options.serviceRoleKey,
    },
    jwtSecret: options.jwtSecret,
    log,
    port: () => port,
  })

  const server = http.createServer((incoming, outgoing) => {
    void serveWithNode(handle, `http://127.0.0.1:${port}`, incoming, outgoing).catch(
      (error: unknown) => {
        log(`playground: ${incoming.method} ${incoming.url} failed: ${String(error)}`)
        outgoing.destroy()
      },
    )
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await sql.end({ timeout: 0 })
    throw error
  }
  port = (server.address() as AddressInfo).port

  let stopped: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          // A browser keeps connections open; they must not hold the stack's stop.
          server.closeAllConnections()
        })
        await sql.end({ timeout: 2 })
      })()
      return stopped
    },
  }
}

interface HandlerContext {
  sql: postgres.Sql
  config: PlaygroundConfig
  jwtSecret: string | undefined
  log: (line: string) => void
  /** The port listened on (known once listening, when 0 was asked for). */
  port: () => number
}

/** One route: the method it takes (GET also answers HEAD) and its work. */
interface Route {
  method: 'GET' | 'POST'
  handle(request: Request, url: URL): Response | Promise<Response>
}

/** The playground's routes as a `fetch` handler, the host checked first and one catch last. */
function createHandler({ sql, config, jwtSecret, log, port }: HandlerContext): FetchHandler {
  let assets: Promise<Map<string, Asset>> | undefined
  let page: Promise<string> | undefined
  // Built on the first request rather than at start: a stack that nobody opens the page of
  // (the tests' stacks, a CI run) spends nothing on it.
  const bundle = () => {
    assets ??= bundlePlayground().catch((error: unknown) => {
      assets = undefined
      log(`playground: the page failed to build: ${String(error)}`)
      throw error
    })
    return assets
  }
  // Found on the first token asked for: a stack started with another secret than this
  // environment's fails that request with the fix, not the whole playground.
  let secret: Promise<string> | undefined
  const signingSecret = () => {
    secret ??= jwtSecret
      ? Promise.resolve(jwtSecret)
      : stackJwtSecret(config.anonKey).catch((error: unknown) => {
          secret = undefined
          throw new HttpError(500, 'internal_error', (error as Error).message)
        })
    return secret
  }
  // Read once, like the bundle it loads: the two are of the same moment.
  const html = () => {
    page ??= readFile(path.join(PLAYGROUND_DIR, 'index.html'), 'utf8').catch((error: unknown) => {
      page = undefined
      throw error
    })
    return page
  }

  const pageRoute: Route = {
    method: 'GET',
    handle: async () =>
      new Response(await html(), {
        headers: {
          'content-type': 'text/html; charset=utf-8',
          // The page talks to this server and to the functions, and to nothing else.
          'content-security-policy': [
            "default-src 'self'",
            `connect-src 'self' ${config.apiUrl}`,
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
          ].join('; '),
        },
      }),
  }
  const assetRoute: Route = {
    method: 'GET',
    async handle(_request, url) {
      const asset = (await bundle()).get(url.pathname.slice('/assets/'.length))
      if (!asset) throw notFound(`the asset ${url.pathname}`)
      return new Response(asset.body, { headers: { 'content-type': asset.contentType } })
    },
  }
  const routes = new Map<string, Route>([
    ['/', pageRoute],
    ['/index.html', pageRoute],
    ['/config.json', { method: 'GET', handle: () => jsonResponse(200, config) }],
    [
      '/api/collections',
      {
        method: 'GET',
        async handle() {
          const body: CollectionsResponse = { collections: await describeCollections(sql) }
          return jsonResponse(200, body)
        },
      },
    ],
    [
      '/api/rows',
      {
        method: 'GET',
        async handle(_request, url) {
          const query = parse(RowsQuery, Object.fromEntries(url.searchParams))
          const info = await describeNamed(sql, query.collection)
          const { rows, total } = await readRows(sql, info, query.limit)
          const body: RowsResponse = { collection: info.name, rows, total, limit: query.limit }
          return jsonResponse(200, body)
        },
      },
    ],
    [
      '/api/owners',
      {
        method: 'GET',
        async handle(_request, url) {
          const query = parse(CollectionQuery, Object.fromEntries(url.searchParams))
          const info = await describeNamed(sql, query.collection)
          const column = ownerColumn(info)
          if (!column) {
            throw new HttpError(
              400,
              'invalid_request',
              `collection: "${info.name}" is public: its rows have no owner or tenant`,
            )
          }
          const body: OwnersResponse = {
            collection: info.name,
            column,
            owners: await readOwners(sql, info),
          }
          return jsonResponse(200, body)
        },
      },
    ],
    [
      // No new power: this local-only server (127.0.0.1, its own Host) already hands the page
      // the service_role key, which may do anything a user may. A token adds the user's view,
      // the rows their policies let them see. Another site may post here, but reads nothing.
      '/api/token',
      {
        method: 'POST',
        async handle(request) {
          const input = parse(TokenBody, await readJson(request, MAX_BODY_BYTES))
          const user = input.user?.toLowerCase() ?? crypto.randomUUID()
          const issuedAt = Math.floor(Date.now() / 1000)
          const accessToken = await signUserToken(
            {
              user,
              tenant: input.tenant,
              expiresInSeconds: TOKEN_LIFETIME_SECONDS,
              issuer: `${config.apiUrl}/auth/v1`,
              now: issuedAt,
            },
            await signingSecret(),
          )
          const body: TokenResponse = {
            user,
            tenant: input.tenant ?? null,
            accessToken,
            expiresAt: issuedAt + TOKEN_LIFETIME_SECONDS,
          }
          return jsonResponse(200, body)
        },
      },
    ],
    [
      '/api/explain',
      {
        method: 'POST',
        async handle(request) {
          const input = parse(ExplainBody, await readJson(request, MAX_BODY_BYTES))
          const body: ExplainResponse = await explainItems(sql, input)
          return jsonResponse(200, body)
        },
      },
    ],
  ])

  return async (request) => {
    let response: Response
    try {
      checkHost(request.headers.get('host'), port())
      const url = new URL(request.url)
      const route = url.pathname.startsWith('/assets/') ? assetRoute : routes.get(url.pathname)
      if (!route) {
        throw new HttpError(
          404,
          'not_found',
          `no route for ${url.pathname}: the page is at /, its data under /api/`,
        )
      }
      allow(request, route.method)
      response = await route.handle(request, url)
    } catch (error) {
      response = answer(error, log)
    }
    return forThePageOnly(response)
  }
}

/** The plan of an `items` search, for the dimensions its table has. */
async function explainItems(
  sql: postgres.Sql,
  input: z.output<typeof ExplainBody>,
): Promise<ExplainResponse> {
  const info = await describeNamed(sql, input.collection)
  if (info.kind !== 'items') {
    // Planning it here would plan another statement than the one that answered.
    throw new HttpError(
      400,
      'invalid_request',
      `collection: "${info.name}" is a collection: its query answers its own plan with "explain": true`,
    )
  }
  if (input.embedding.length !== info.dimensions) {
    throw new HttpError(
      400,
      'dimension_mismatch',
      `expected ${info.dimensions} dimensions, not ${input.embedding.length}`,
    )
  }
  return await explainSearch(sql, info.index, input.embedding, input.count)
}

// Against DNS rebinding: a page on another site whose name resolves to 127.0.0.1 would
// otherwise be same-origin with this server, and could read the keys.
function checkHost(host: string | null, port: number): void {
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`]
  if (!host || !allowed.includes(host.toLowerCase())) {
    throw new HttpError(
      403,
      'forbidden',
      `host ${JSON.stringify(host ?? '')} is not allowed: open http://127.0.0.1:${port}`,
    )
  }
}

function allow(request: Request, method: Route['method']): void {
  const allowed = method === 'GET' ? ['GET', 'HEAD'] : [method]
  if (allowed.includes(request.method)) return
  throw new HttpError(
    405,
    'method_not_allowed',
    `method ${request.method} is not allowed: use ${method}`,
    { allow: allowed.join(', ') },
  )
}

/**
 * The answer as this server sends it: never cached, never sniffed, and without the CORS
 * headers `jsonResponse` adds for the functions, so that no other site can read the keys.
 */
function forThePageOnly(response: Response): Response {
  const headers = new Headers(response.headers)
  for (const name of [...headers.keys()]) {
    if (name.startsWith('access-control-')) headers.delete(name)
  }
  headers.set('cache-control', 'no-store')
  headers.set('x-content-type-options', 'nosniff')
  return new Response(response.body, { status: response.status, headers })
}

/** The collection called `name` as the catalog describes it; 404 if there is none. */
async function describeNamed(sql: postgres.Sql, name: string): Promise<CollectionInfo> {
  const source = await findCollection(sql, name)
  if (!source) {
    throw new HttpError(
      404,
      'not_found',
      `no collection ${JSON.stringify(name)}: GET /api/collections lists them`,
    )
  }
  const info = await describeCollection(sql, source)
  if (!info) throw notFound(`the table ${source.table}`)
  return info
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new HttpError(400, 'invalid_request', describeIssue(parsed.error))
  return parsed.data
}

function notFound(what: string): HttpError {
  return new HttpError(404, 'not_found', `${what} not found`)
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', '57P01'])

/** An `HttpError`'s own answer; 503 for a database out of reach; otherwise a logged 500. */
function answer(error: unknown, log: (line: string) => void): Response {
  if (error instanceof HttpError) return answerError(error)
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) {
    return errorResponse(
      503,
      'database_unavailable',
      'the database is unavailable: is the stack running?',
    )
  }
  // The cause goes to the stack's log; the page learns only that it failed.
  log(`playground: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  return errorResponse(500, 'internal_error', 'internal server error')
}
