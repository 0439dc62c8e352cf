/**
 * The request pipeline every function runs, in one order: CORS preflight, method, content
 * type, body size, JSON, validation, caller, work, then one catch that logs and answers a
 * generic 500. Functions supply only the schema and the work.
 */
import type { z } from 'zod'
import { describeIssue, MAX_BODY_BYTES } from './contract.ts'
import { type ErrorCode, HttpError } from './errors.ts'
import { parseJsonInput } from './json-input.ts'
import { stringifyJson } from './json-text.ts'
import { CONSISTENCY_HEADER, consistencyHeaders, readAfter } from './consistency.ts'

import { type Caller, callerFromRequest } from './auth.ts'

/** Headers that let browsers call the functions from any origin, as Supabase's guides do. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': `authorization, x-client-info, apikey, content-type, ${CONSISTENCY_HEADER}`,
  'access-control-expose-headers': CONSISTENCY_HEADER,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-max-age': '86400',
}

/** A JSON answer with the CORS headers; `JsonText` anywhere in `body` is written as it is. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(stringifyJson(body), {
    status,
    headers: { ...CORS_HEADERS, 'content-type': 'application/json', ...headers },
  })
}

/** The `{"error":{"code","message"}}` answer every failure gets. */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse(status, { error: { code, message } }, headers)
}

/** What a function declares: the body it takes and the work it does with it. */
export interface Endpoint<S extends z.ZodType, R> {
  /** Validates the body; its output is what `handle` receives. */
  schema: S
  /** The status of a successful answer. */
  status: number
  /**
   * Refuses (401/403) a caller who may not use this endpoint, before the body is validated:
   * a refused caller costs no parsing work (a filter compiled, records checked in depth).
   */
  authorize?(caller: Caller): void | Promise<void>
  /** The work, run only for a valid body from a known caller. */
  handle(input: z.output<S>, caller: Caller): Promise<R>
}

/**
 * Turns an endpoint into a `fetch` handler that takes `POST` with a JSON body.
 *
 * @example
 * export default { fetch: postEndpoint({ schema, status: 200, handle: (input) => work(input) }) }
 */
export function postEndpoint<S extends z.ZodType, R>(
  endpoint: Endpoint<S, R>,
): (request: Request) => Promise<Response> {
  return readsForwardedRequests((request: Request) =>
    pipeline(request, 'POST', async () => {
      // The body is read (and bounded) first even for a caller about to be refused, so that
      // the connection is left in a sane state; it is not validated until the caller may use it.
      const body = await readJson(request)
      const caller = requestCaller(request)
      await endpoint.authorize?.(caller)
      const parsed = endpoint.schema.safeParse(body)
      if (!parsed.success) throw new HttpError(400, 'invalid_request', describeIssue(parsed.error))
      const result = await endpoint.handle(parsed.data, caller)
      return jsonResponse(endpoint.status, result, consistencyHeaders(caller))
    }),
  )
}

/**
 * Turns a read without a body into a `fetch` handler that takes `GET`.
 *
 * @example
 * export default { fetch: getEndpoint((caller) => describe(caller)) }
 */
export function getEndpoint<R>(
  handle: (caller: Caller) => Promise<R>,
): (request: Request) => Promise<Response> {
  return readsForwardedRequests((request: Request) =>
    pipeline(request, 'GET', async () => {
      const caller = requestCaller(request)
      const result = await handle(caller)
      return jsonResponse(200, result, consistencyHeaders(caller))
    }),
  )
}

/**
 * The request's caller, with the consistency token it sent (reads see its earlier writes on a
 * read replica; consistency.ts).
 */
function requestCaller(request: Request): Caller {
  const caller = callerFromRequest(request)
  readAfter(caller, request.headers.get(CONSISTENCY_HEADER))
  return caller
}

/** The steps every request takes: CORS preflight, method, the route's work, one catch. */
async function pipeline(
  request: Request,
  method: 'GET' | 'POST',
  work: () => Promise<Response>,
): Promise<Response> {
  if (request.method === 'OPTIONS')
    return new Response(null, { status: 204, headers: CORS_HEADERS })
  try {
    if (request.method !== method) {
      throw new HttpError(
        405,
        'method_not_allowed',
        `method ${request.method} is not allowed: use ${method}`,
        {
          allow: `${method}, OPTIONS`,
        },
      )
    }
    return await work()
  } catch (error) {
    return answerError(error)
  }
}

/** The answer for a thrown error: its own for an `HttpError`, a generic 500 otherwise. */
export function answerError(error: unknown): Response {
  if (error instanceof HttpError) {
    return errorResponse(error.status, error.code, error.message, error.headers)
  }
  // The cause stays in the server's log; the caller learns nothing of the internals.
  console.error('unhandled error:', error)
  return errorResponse(500, 'internal_error', 'internal server error')
}

/** Reads a JSON body of at most `MAX_BODY_BYTES`, without buffering more than that. */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `content-type must be application/json${type ? `, not ${type}` : ''}`,
    )
  }
  const text = await readText(request, maxBytes)
  if (text.trim() === '')
    throw new HttpError(400, 'invalid_json', 'request body is empty: send a JSON object')
  return parseJsonInput(text)
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  const bytes = await readBody(request, maxBytes)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid UTF-8')
  }
}

/** What the local gateway hands over with a request it forwards to a function in this process. */
interface Forwarded {
  path: string
  body: ArrayBuffer | null
}

// Kept on the global object under a registered symbol, so that every copy of this module in
// the process (the gateway's and a function's may load it from different URLs) shares them.
const FORWARDED = Symbol.for('matchbox.forwardedRequests')
const READS_FORWARDED = Symbol.for('matchbox.readsForwardedRequests')
const forwarded: WeakMap<Request, Forwarded> = ((globalThis as Record<symbol, unknown>)[
  FORWARDED
] ??= new WeakMap()) as WeakMap<Request, Forwarded>

/**
 * Hands `request` to a function in this process as if it had arrived at `path`, its body
 * already read (within `readBody`'s bounds) as `body`: the local gateway forwards requests
 * so, without a copy of the request (52 to 54 µs in Deno, `npm run bench:request`) or a second
 * read of its body. Only for a handler marked with `readsForwardedRequests`: it reads the
 * path with `requestPath` and the body with `readJson`.
 */
export function forwardInProcess(
  request: Request,
  path: string,
  body: ArrayBuffer | null,
): Request {
  forwarded.set(request, { path, body })
  return request
}

/**
 * Marks `handler` as reading its requests' path and body only through this module, so that
 * the local gateway may hand it requests as they came (`forwardInProcess`). A function that
 * reads `request.url` or the body itself is left unmarked and gets a copy.
 */
export function readsForwardedRequests<H extends (request: Request) => unknown>(handler: H): H {
  Object.defineProperty(handler, READS_FORWARDED, { value: true })
  return handler
}

/** Whether `handler` was marked with `readsForwardedRequests`. */
export function takesForwardedRequests(handler: unknown): boolean {
  return (
    typeof handler === 'function' &&
    (handler as unknown as Record<symbol, unknown>)[READS_FORWARDED] === true
  )
}

/** The path a function was called at: its own name first, as on hosted Supabase. */
export function requestPath(request: Request): string {
  return forwarded.get(request)?.path ?? new URL(request.url).pathname
}

/** How long a request's body may take to arrive, by default (`MATCHBOX_BODY_TIMEOUT_MS`). */
export const BODY_TIMEOUT_MS = 10_000

/**
 * Reads a body of at most `maxBytes` within `timeoutMs`, refusing (413) without buffering
 * more than that, and (408) a body that trickles in slower: it would hold its slot for ever.
 */
export async function readBody(
  request: Request,
  maxBytes: number,
  timeoutMs = BODY_TIMEOUT_MS,
): Promise<ArrayBuffer> {
  const handed = forwarded.get(request)
  if (handed) {
    if (handed.body && handed.body.byteLength > maxBytes) throw tooLarge(maxBytes)
    return handed.body ?? new ArrayBuffer(0)
  }
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > maxBytes) throw tooLarge(maxBytes)
  if (!request.body) return new ArrayBuffer(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(
            408,
            'request_timeout',
            `request body did not arrive within ${timeoutMs} ms`,
            { connection: 'close' },
          ),
        ),
      timeoutMs,
    )
  })
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late])
      if (done) break
      size += value.byteLength
      if (size > maxBytes) throw tooLarge(maxBytes)
      chunks.push(value)
    }
  } catch (error) {
    reader.cancel().catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes.buffer
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `request body is larger than ${maxBytes} bytes`)
}
