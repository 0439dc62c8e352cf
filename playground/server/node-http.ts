/**
 * Serves a web `fetch` handler (`Request` in, `Response` out) with node:http, so that the
 * playground's routes are written as the gateway's and the functions' are.
 */
import type http from 'node:http'
import { Readable } from 'node:stream'

/** A handler as Deno.serve and the gateway take it. */
export type FetchHandler = (request: Request) => Promise<Response>

/**
 * Hands one node:http request to `handle` and writes its answer. `origin` is the server's
 * own (the request's Host header travels as a header, for the handler to check).
 *
 * @example
 * http.createServer((req, res) => void serveWithNode(handle, 'http://127.0.0.1:54323', req, res))
 */
export async function serveWithNode(
  handle: FetchHandler,
  origin: string,
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
): Promise<void> {
  const response = await handle(toRequest(incoming, origin))
  const headers = Object.fromEntries(response.headers)
  // A body left unread (refused as too large) would be taken for the next request.
  if (!incoming.complete) headers.connection = 'close'
  outgoing.writeHead(response.status, headers)
  // Node leaves the body out of an answer to HEAD by itself.
  outgoing.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined)
}

function toRequest(incoming: http.IncomingMessage, origin: string): Request {
  const headers = new Headers()
  const raw = incoming.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  const method = incoming.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return new Request(new URL(incoming.url ?? '/', origin), {
    method,
    headers,
    // A stream, not a buffer: the handler bounds how much of it is read.
    body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : null,
    // Node's fetch requires this for a streamed body.
    duplex: 'half',
  } as RequestInit)
}
