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

/** The bearer token of a request, from `Authorization` or, failing that, `apikey`. */
export function tokenFromRequest(request: Request): string | undefined {
  const authorization = request.headers.get('authorization')
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    return match?.[1]
  }
  return request.headers.get('apikey')?.trim() || undefined
}

/**
 * The caller of a request whose JWT the gateway has verified.
 *
 * @throws HttpError 401 without a readable token, 403 for a role that is not an API role.
 */
export function callerFromRequest(request: Request): Caller {
  const token = tokenFromRequest(request)
  if (!token) {
    throw new HttpError(
      401,
      'unauthorized',
      'missing authorization: send an API key as a bearer token',
    )
  }
  let claims: JWTPayload
  try {
    claims = decodeJwt(token)
  } catch {
    throw new HttpError(401, 'unauthorized', 'invalid JWT: the bearer token cannot be decoded')
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
