/**
 * Who is calling: the database role and claims of the request's JWT.
 *
 * The JWT is decoded here, not verified: on Supabase the platform verifies it before the
 * function runs (`verify_jwt = true`, the default, set for every function in config.toml),
 * and locally the stack's gateway does the same check. Deploying these functions with
 * `verify_jwt = false` would let anyone claim any role, so don't.
 */
import { decodeJwt, type JWTPayload } from 'jose'
import { HttpError } from './errors.ts'

/** The database roles a request may run as: the ones Supabase's API keys carry. */
export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const

/** One of `API_ROLES`. */
export type ApiRole = (typeof API_ROLES)[number]

/** The caller of one request: the role the work runs as and the claims policies may read. */
export interface Caller {
  role: ApiRole
  claims: JWTPayload & { role: ApiRole }
}

/**
 * The bearer token of a request, from `Authorization: Bearer <token>` or, failing that, the
 * `apikey` header, as Supabase's clients send them.
 *
 * @throws HttpError 401 naming what is wrong: no header, another scheme, an empty token.
 */
export function tokenFromRequest(request: Request): string {
  const authorization = request.headers.get('authorization')
  if (authorization !== null) {
    const [scheme = '', ...rest] = authorization.trim().split(/\s+/)
    if (scheme.toLowerCase() !== 'bearer') {
      const named = scheme ? `, not ${JSON.stringify(scheme.slice(0, 16))}` : ''
      throw unauthorized(`expected a Bearer token in the authorization header${named}`)
    }
    if (rest.length === 0)
      throw unauthorized('empty token: the authorization header has no token after Bearer')
    if (rest.length > 1)
      throw unauthorized('malformed authorization header: expected "Bearer <token>"')
    return rest[0]!
  }
  const apikey = request.headers.get('apikey')
  if (apikey === null)
    throw unauthorized('missing authorization header: send an API key as a bearer token')
  if (apikey.trim() === '') throw unauthorized('empty token: the apikey header is empty')
  return apikey.trim()
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message)
}

/**
 * The caller of a request whose JWT the gateway has verified.
 *
 * @throws HttpError 401 without a readable token, 403 for a role that is not an API role.
 */
export function callerFromRequest(request: Request): Caller {
  const token = tokenFromRequest(request)
  let claims: JWTPayload
  try {
    claims = decodeJwt(token)
  } catch {
    throw unauthorized('invalid JWT: the bearer token cannot be decoded')
  }
  const role = claims.role
  if (!isApiRole(role)) {
    throw new HttpError(403, 'forbidden', `role ${JSON.stringify(role ?? null)} is not allowed`)
  }
  return { role, claims: { ...claims, role } }
}

function isApiRole(role: unknown): role is ApiRole {
  return (API_ROLES as readonly unknown[]).includes(role)
}

/**
 * An endpoint's `authorize` that lets only `roles` through, answering 403 that names the
 * key needed (the grants say the same; this refuses before the body is validated).
 *
 * @example
 * postEndpoint({ schema, status: 201, authorize: requireRole('service_role'), handle })
 */
export function requireRole(...roles: ApiRole[]): (caller: Caller) => void {
  return (caller) => {
    if (!roles.includes(caller.role)) {
      throw new HttpError(
        403,
        'forbidden',
        `role ${JSON.stringify(caller.role)} may not do this: it needs ${roles.join(' or ')}`,
      )
    }
  }
}
