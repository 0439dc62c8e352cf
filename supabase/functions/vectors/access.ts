/**
 * Who may use a collection, and which of its rows a caller's statements are about. The
 * database's grants and policies decide in the end; these checks answer a caller who may not
 * use a route with a clear 401/403 before any of the body is validated, and give every user's
 * statement its owner or tenant condition in the SQL itself, so that the btree index on it
 * serves the statement (a policy alone is a filter the planner applies late).
 */
import type { Caller } from '../_shared/auth.ts'
import { HttpError } from '../_shared/errors.ts'
import type { Collection } from './catalog.ts'
import type { SqlParams } from './filter.ts'

/** What a route does to records: reads them, or writes them. */
export type RouteKind = 'read' | 'write'

/**
 * The rows a caller's statements concern: every row (service_role, and anyone reading a
 * public collection), or those of one owner or tenant.
 */
export type Scope =
  | { kind: 'all' }
  | { kind: 'owner'; column: 'owner_id'; value: string; cast: 'uuid' }
  | { kind: 'tenant'; column: 'tenant_id'; value: string; cast: 'text' }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Refuses a caller who may not use a `kind` route of `collection`, and otherwise answers the
 * rows the caller's statements concern.
 *
 * - public: anyone reads; only service_role writes (403).
 * - owner: service_role does anything; a user reads and writes their own rows; anon nothing (403).
 * - tenant: as owner, with the token's `app_metadata.tenant_id`; a user without it: 403.
 *
 * @throws HttpError 403 naming what the caller lacks.
 */
export function authorize(collection: Collection, caller: Caller, kind: RouteKind): Scope {
  if (caller.role === 'service_role') return { kind: 'all' }
  if (collection.access === 'public') {
    if (kind === 'write') {
      throw new HttpError(
        403,
        'forbidden',
        `"${collection.name}" is written with the service_role key only`,
      )
    }
    return { kind: 'all' }
  }
  if (caller.role !== 'authenticated') {
    throw new HttpError(
      403,
      'forbidden',
      `"${collection.name}" is private to its ${collection.access === 'owner' ? 'owners' : 'tenants'}: send a user's access token (or the service_role key)`,
    )
  }
  if (collection.access === 'owner') {
    const user = caller.claims.sub
    if (typeof user !== 'string' || !UUID.test(user)) {
      throw new HttpError(403, 'forbidden', 'the token names no user: its sub is not a user id')
    }
    return { kind: 'owner', column: 'owner_id', value: user.toLowerCase(), cast: 'uuid' }
  }
  const tenant = tenantClaim(caller)
  if (tenant === undefined) {
    throw new HttpError(
      403,
      'forbidden',
      `"${collection.name}" is per tenant and the token has no app_metadata.tenant_id claim`,
    )
  }
  return { kind: 'tenant', column: 'tenant_id', value: tenant, cast: 'text' }
}

/** The token's `app_metadata.tenant_id`, when it is a non-empty string. */
function tenantClaim(caller: Caller): string | undefined {
  const appMetadata = caller.claims.app_metadata
  if (typeof appMetadata !== 'object' || appMetadata === null) return undefined
  const tenant = (appMetadata as Record<string, unknown>).tenant_id
  return typeof tenant === 'string' && tenant !== '' ? tenant : undefined
}

/**
 * The scope's condition on alias `c` (e.g. `c.owner_id = $3::uuid`), or undefined for every
 * row. The policy says the same; written here too, the planner can use the index on it.
 */
export function scopeCondition(scope: Scope, params: SqlParams): string | undefined {
  if (scope.kind === 'all') return undefined
  return `c.${scope.column} = ${params.add(scope.value, scope.cast)}`
}

/** `where a and b …` of the conditions given, or nothing when none is. */
export function whereClause(...conditions: (string | undefined)[]): string {
  const present = conditions.filter((condition): condition is string => Boolean(condition))
  return present.length === 0 ? '' : `where ${present.join(' and ')}`
}

/**
 * The column that says whose a row is, in owner and tenant collections: returned to
 * service_role only (a user's rows are all their own).
 */
export function ownershipColumn(
  collection: Collection,
  caller: Caller,
): 'owner_id' | 'tenant_id' | undefined {
  if (caller.role !== 'service_role' || collection.access === 'public') return undefined
  return collection.access === 'owner' ? 'owner_id' : 'tenant_id'
}
