/**
 * The local stack's API gateway: routes `/functions/v1/<name>/…` to the function of that
 * name and, unless the function has `verify_jwt = false`, lets through only requests with a
 * JWT signed by the project's secret, as Supabase's gateway does.
 *
 * Runtime-neutral (web `Request`/`Response` only), so the Deno entry point serves it and
 * tests can call it directly.
 */
import { errors as joseErrors, jwtVerify } from 'jose'
import { tokenFromRequest } from '../../../supabase/functions/_shared/auth.ts'
import {
  answerError,
  errorResponse,
  HttpError,
  jsonResponse,
} from '../../../supabase/functions/_shared/http.ts'

/** One function as the gateway sees it. */
export interface RoutedFunction {
  name: string
  verifyJwt: boolean
  fetch(request: Request): Response | Promise<Response>
}

/** What the gateway needs: the functions and the secret their JWTs are signed with. */
export interface GatewayOptions {
  functions: readonly RoutedFunction[]
  jwtSecret: string
}

const FUNCTIONS_PREFIX = '/functions/v1/'

/**
 * Builds the gateway's handler.
 *
 * @example
 * Deno.serve(createGateway({ functions: [{ name: 'items', verifyJwt: true, fetch }], jwtSecret }))
 */
export function createGateway(options: GatewayOptions): (request: Request) => Promise<Response> {
  const byName = new Map(options.functions.map((fn) => [fn.name, fn]))
  const key = new TextEncoder().encode(options.jwtSecret)

  return async (request) => {
    const url = new URL(request.url)
    if (url.pathname === '/health') return jsonResponse(200, { status: 'ok' })
    if (!url.pathname.startsWith(FUNCTIONS_PREFIX)) {
      return errorResponse(
        404,
        'not_found',
        `no route for ${url.pathname}: functions live under ${FUNCTIONS_PREFIX}<name>`,
      )
    }
    const rest = url.pathname.slice(FUNCTIONS_PREFIX.length)
    const name = rest.split('/', 1)[0] ?? ''
    const fn = byName.get(name)
    if (!fn) return errorResponse(404, 'not_found', `function ${JSON.stringify(name)} not found`)

    try {
      // Browsers send preflights without credentials; the function answers them itself.
      if (fn.verifyJwt && request.method !== 'OPTIONS') await verifyJwt(request, key)
      // Hosted functions see their own name as the first path segment, not /functions/v1.
      const inner = new URL(`/${rest}${url.search}`, url)
      // A fresh Request rather than a copy: a copied one would share the client's abort
      // signal, which Deno fires once the answer is sent.
      return await fn.fetch(
        new Request(inner, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        }),
      )
    } catch (error) {
      return answerError(error)
    }
  }
}

async function verifyJwt(request: Request, key: Uint8Array): Promise<void> {
  const token = tokenFromRequest(request)
  if (!token)
    throw new HttpError(
      401,
      'unauthorized',
      'missing authorization header: send an API key as a bearer token',
    )
  try {
    await jwtVerify(token, key, { algorithms: ['HS256'] })
  } catch (error) {
    throw new HttpError(401, 'unauthorized', `invalid JWT: ${describeJwtError(error)}`)
  }
}

function describeJwtError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token must be signed with HS256'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the signature does not match'
  return 'the token is malformed'
}
