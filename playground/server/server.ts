/**
 * The playground's server: the page (bundled from playground/ on first request), the keys
 * it calls the functions with, and the reads the SDK has no call for (collections, rows,
 * the EXPLAIN of an `items` search). Inserts and searches do not come here: the page sends
 * them through the SDK to the functions, as an app would.
 *
 * A local development tool like Supabase Studio, never deployed: it listens on 127.0.0.1
 * only, answers only requests addressed to that host, and hands the service_role key to the
 * page, as Studio holds it too.
 */
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import postgres from 'postgres'
import { z } from 'zod'
import { describeIssue, MatchItemsRequest } from '../../supabase/functions/_shared/contract.ts'
import type {
  CollectionInfo,
  CollectionsResponse,
  ExplainResponse,
  PlaygroundConfig,
  RowsResponse,
} from '../web/types.ts'
import { HttpError } from '../../supabase/functions/_shared/errors.ts'
import { type Asset, bundlePlayground, PLAYGROUND_DIR } from './bundle.ts'
import {
  DEFAULT_ROWS,
  describeCollection,
  describeCollections,
  explainSearch,
  findCollection,
  MAX_ROWS,
  readRows,
} from './collections.ts'

/** What the playground server needs: its port, and the stack it shows. */
export interface PlaygroundServerOptions {
  port: number
  apiUrl: string
  dbUrl: string
  anonKey: string
  serviceRoleKey: string
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

// Unknown query parameters are ignored, as URLs often carry some (a cache-buster, say).
const RowsQuery = z.object({
  collection: z.string({ error: 'expected a collection name, e.g. ?collection=items' }),
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
  const config: PlaygroundConfig = {
    apiUrl: options.apiUrl,
    anonKey: options.anonKey,
    serviceRoleKey: options.serviceRoleKey,
  }
  const routes = createRoutes({ sql, config, log })

  const server = http.createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      log(`playground: ${request.method} ${request.url} failed: ${String(error)}`)
      response.destroy()
    })
  })
  async function handle(request: http.IncomingMessage, response: http.ServerResponse) {
    let answer: Answer
    try {
      checkHost(request.headers.host, port)
      answer = await routes(request)
    } catch (error) {
      answer = answerError(error, log)
    }
    response.writeHead(answer.status, {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...answer.headers,
    })
    response.end(answer.body)
  }

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

/** One answer, before it is written. */
interface Answer {
  status: number
  headers: Record<string, string>
  body: string | Uint8Array
}

interface RouteContext {
  sql: postgres.Sql
  config: PlaygroundConfig
  log: (line: string) => void
}

function createRoutes({ sql, config, log }: RouteContext) {
  let assets: Promise<Map<string, Asset>> | undefined
  let page: Promise<Buffer> | undefined
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
  // Read once, like the bundle it loads: the two are of the same moment.
  const html = () => {
    page ??= readFile(path.join(PLAYGROUND_DIR, 'index.html')).catch((error: unknown) => {
      page = undefined
      throw error
    })
    return page
  }

  return async (request: http.IncomingMessage): Promise<Answer> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const route = url.pathname

    if (route === '/' || route === '/index.html') {
      allow(request, 'GET')
      return {
        status: 200,
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
        body: await html(),
      }
    }
    if (route.startsWith('/assets/')) {
      allow(request, 'GET')
      const asset = (await bundle()).get(route.slice('/assets/'.length))
      if (!asset) throw notFound(`the asset ${route}`)
      return { status: 200, headers: { 'content-type': asset.contentType }, body: asset.body }
    }
    if (route === '/config.json') {
      allow(request, 'GET')
      return json(200, config)
    }
    if (route === '/api/collections') {
      allow(request, 'GET')
      const body: CollectionsResponse = { collections: await describeCollections(sql) }
      return json(200, body)
    }
    if (route === '/api/rows') {
      allow(request, 'GET')
      const query = parse(RowsQuery, Object.fromEntries(url.searchParams))
      const info = await describeNamed(sql, query.collection)
      const { rows, total } = await readRows(sql, info, query.limit)
      const body: RowsResponse = { collection: info.name, rows, total, limit: query.limit }
      return json(200, body)
    }
    if (route === '/api/explain') {
      allow(request, 'POST')
      const input = parse(ExplainBody, await readJson(request))
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
      const body: ExplainResponse = await explainSearch(
        sql,
        info.index,
        input.embedding,
        input.count,
      )
      return json(200, body)
    }
    throw new HttpError(
      404,
      'not_found',
      `no route for ${route}: the page is at /, its data under /api/`,
    )
  }
}

// Against DNS rebinding: a page on another site whose name resolves to 127.0.0.1 would
// otherwise be same-origin with this server, and could read the keys.
function checkHost(host: string | undefined, port: number): void {
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`]
  if (!host || !allowed.includes(host.toLowerCase())) {
    throw new HttpError(
      403,
      'forbidden',
      `host ${JSON.stringify(host ?? '')} is not allowed: open http://127.0.0.1:${port}`,
    )
  }
}

function allow(request: http.IncomingMessage, method: 'GET' | 'POST'): void {
  // HEAD is a GET without the body, which Node leaves out by itself.
  const allowed = method === 'GET' ? ['GET', 'HEAD'] : [method]
  if (allowed.includes(request.method ?? '')) return
  throw new HttpError(
    405,
    'method_not_allowed',
    `method ${request.method} is not allowed: use ${method}`,
    { allow: allowed.join(', ') },
  )
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

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `content-type must be application/json${type ? `, not ${type}` : ''}`,
    )
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(
        413,
        'payload_too_large',
        `request body is larger than ${MAX_BODY_BYTES} bytes`,
      )
    }
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') {
    throw new HttpError(400, 'invalid_json', 'request body is empty: send a JSON object')
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError(
      400,
      'invalid_json',
      `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  }
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', '57P01'])

function answerError(error: unknown, log: (line: string) => void): Answer {
  if (error instanceof HttpError) {
    return json(
      error.status,
      { error: { code: error.code, message: error.message } },
      error.headers,
    )
  }
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) {
    return json(503, {
      error: {
        code: 'database_unavailable',
        message: 'the database is unavailable: is the stack running?',
      },
    })
  }
  // The cause goes to the stack's log; the page learns only that it failed.
  log(`playground: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  return json(500, { error: { code: 'internal_error', message: 'internal server error' } })
}
