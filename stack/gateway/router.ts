/**
 * The local stack's API gateway: routes `/functions/v1/<name>/…` to the function of that
 * name and, unless the function has `verify_jwt = false`, lets through only requests with a
 * JWT signed by the project's secret, as Supabase's gateway does.
 *
 * Runtime-neutral (web `Request`/`Response` only), so the Deno entry point serves it and
 * tests can call it directly.
 */
import { errors as joseErrors, jwtVerify } from 'jose'
import { tokenFromRequest } from '../../supabase/functions/_shared/auth.ts'
import { HttpError } from '../../supabase/functions/_shared/errors.ts'
import { MAX_BODY_BYTES } from '../../supabase/functions/_shared/contract.ts'
import {
  answerError,
  BODY_TIMEOUT_MS,
  errorResponse,
  jsonResponse,
  forwardInProcess,
  readBody,
} from '../../supabase/functions/_shared/http.ts'
import { Admission, type AdmissionLimits } from './admission.ts'

/** One function as the gateway sees it. */
export interface RoutedFunction {
  name: string
  verifyJwt: boolean
  fetch(request: Request): Response | Promise<Response>
  /**
   * Whether the function runs in this process and reads requests through `_shared/http.ts`:
   * it is then handed the request as it came, not a copy (`forwardInProcess`).
   */
  inProcess?: boolean
}

/** What the gateway needs: the functions and the secret their JWTs are signed with. */
export interface GatewayOptions {
  functions: readonly RoutedFunction[]
  jwtSecret: string
  /** Admission limits per function (default: unlimited). */
  limits?: AdmissionLimits
  /** Fault injection: ends a function's worker (served at POST /_matchbox/crash/<name>). */
  crash?: (name: string) => void
  /** How long a request's body may take to arrive (default `BODY_TIMEOUT_MS`, 10 s). */
  bodyTimeoutMs?: number
}

const FUNCTIONS_PREFIX = '/functions/v1/'
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Supabase's own services, which the local stack does not run (no PostgREST, no GoTrue). */
const PLATFORM_SERVICES: Readonly<Record<string, string>> = {
  '/rest/v1': 'PostgREST (the REST API)',
  '/auth/v1': 'GoTrue (Supabase Auth)',
  '/storage/v1': 'Supabase Storage',
  '/realtime/v1': 'Supabase Realtime',
}
const PLATFORM_PATHS = Object.keys(PLATFORM_SERVICES)
const CRASH_PREFIX = '/_matchbox/crash/'

/**
 * Builds the gateway's handler.
 *
 * @example
 * Deno.serve(createGateway({ functions: [{ name: 'items', verifyJwt: true, fetch }], jwtSecret }))
 */
export function createGateway(options: GatewayOptions): (request: Request) => Promise<Response> {
  const byName = new Map(options.functions.map((fn) => [fn.name, fn]))
  const admissions = new Map(
    options.functions.map((fn) => [
      fn.name,
      options.limits ? new Admission(fn.name, options.limits) : undefined,
    ]),
  )
  // Imported once: given raw bytes, jose would import the key again for every request.
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(options.jwtSecret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  )
  const verified: VerifiedTokens = new Map()

  return async (request) => {
    const url = new URL(request.url)
    if (url.pathname === '/health') {
      const admission = Object.fromEntries(
        [...admissions].map(([name, limits]) => [name, limits?.stats ?? null]),
      )
      return jsonResponse(200, { status: 'ok', admission })
    }
    if (options.crash && request.method === 'POST' && url.pathname.startsWith(CRASH_PREFIX)) {
      options.crash(url.pathname.slice(CRASH_PREFIX.length))
      return jsonResponse(202, { crashed: true })
    }
    const platform = PLATFORM_PATHS.find((prefix) => url.pathname.startsWith(prefix))
    if (platform) {
      return errorResponse(
        404,
        'not_found',
        `${platform} is not served by the local stack: ${PLATFORM_SERVICES[platform]} needs hosted Supabase or \`supabase start\` (Docker); functions live under ${FUNCTIONS_PREFIX}<name>`,
      )
    }
    if (!url.pathname.startsWith(FUNCTIONS_PREFIX)) {
      return errorResponse(
        404,
        'not_found',
        `no route for ${url.pathname.slice(0, 80)}: functions live under ${FUNCTIONS_PREFIX}<name>`,
      )
    }
    const rest = url.pathname.slice(FUNCTIONS_PREFIX.length)
    const name = rest.split('/', 1)[0] ?? ''
    const fn = byName.get(name)
    if (!fn) {
      const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name
      return errorResponse(404, 'not_found', `function ${JSON.stringify(shown)} not found`)
    }

    try {
      // Browsers send preflights without credentials; the function answers them itself.
      if (fn.verifyJwt && request.method !== 'OPTIONS')
        await verifyJwt(request, await key, verified)
      // Hosted functions see their own name as the first path segment, not /functions/v1.
      const path = `/${rest}`
      // The body is read, within a size and a time bound, before the request is admitted: a
      // client that trickles its body in holds no slot that normal requests wait for.
      const body = BODYLESS.has(request.method)
        ? null
        : await readBody(request, MAX_BODY_BYTES, options.bodyTimeoutMs ?? BODY_TIMEOUT_MS)
      // A function in this process gets the request itself, with its path and body handed
      // over; one elsewhere a fresh Request (a copy would share the client's abort signal,
      // which Deno fires once the answer is sent).
      const forward = async () =>
        await fn.fetch(
          fn.inProcess
            ? forwardInProcess(request, path, body)
            : new Request(new URL(`${path}${url.search}`, url), {
                method: request.method,
                headers: request.headers,
                body,
              }),
        )
      const admission = admissions.get(name)
      return await (admission ? admission.run(forward) : forward())
    } catch (error) {
      return answerError(error)
    }
  }
}

/** Tokens whose signature checked out, with the times that bound their validity. */
type VerifiedTokens = Map<string, { exp?: number; nbf?: number }>

/** How many verified tokens are remembered; the oldest is forgotten first. */
const VERIFIED_TOKENS = 1000

async function verifyJwt(
  request: Request,
  key: CryptoKey,
  verified: VerifiedTokens,
): Promise<void> {
  const token = tokenFromRequest(request)
  // A token seen before, signature and all, needs only its times checked again (as jose
  // checks them): API keys and sessions send the same token with every request.
  const now = Math.floor(Date.now() / 1000)
  const known = verified.get(token)
  if (known && (known.exp === undefined || known.exp > now) && (known.nbf ?? 0) <= now) return
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] })
    if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!)
    verified.set(token, { exp: payload.exp, nbf: payload.nbf })
  } catch (error) {
    verified.delete(token)
    throw new HttpError(401, 'unauthorized', `invalid JWT: ${describeJwtError(error)}`)
  }
}

function describeJwtError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired'
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf')
    return 'the token is not valid yet (its nbf is in the future)'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token must be signed with HS256'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the signature does not match'
  return 'the token is malformed'
}
