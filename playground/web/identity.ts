/**
 * Who the page acts as: service_role (every row, and the plans), anon (a visitor), or a user
 * with an access token, whose policies decide which rows of an owner or tenant collection
 * they see. Pure, so that it is tested without a browser.
 */

/** An identity: a key's role, or a user (with a tenant, for tenant collections). */
export type Identity =
  | { role: 'service_role' }
  | { role: 'anon' }
  | { role: 'authenticated'; user: string; tenant?: string }

/** A user, as the page keeps them. */
export type User = Extract<Identity, { role: 'authenticated' }>

/** The page's first identity: what it did before there were users. */
export const SERVICE_ROLE: Identity = { role: 'service_role' }

/** The anon key's visitor. */
export const ANON: Identity = { role: 'anon' }

/**
 * One string per identity: the picker's option values and the token cache's keys.
 *
 * @example
 * identityKey({ role: 'authenticated', user: '6f1c…', tenant: 'acme' }) // 'user:6f1c…:acme'
 */
export function identityKey(identity: Identity): string {
  if (identity.role !== 'authenticated') return identity.role
  return identity.tenant === undefined
    ? `user:${identity.user}`
    : `user:${identity.user}:${identity.tenant}`
}

/**
 * What the picker and the role badges call an identity: a user by the first 8 characters
 * of their id (as Studio shortens them), with their tenant.
 *
 * @example
 * identityLabel({ role: 'authenticated', user: '6f1c2f3e-9a0b-…', tenant: 'acme' }) // 'user 6f1c2f3e · tenant acme'
 */
export function identityLabel(identity: Identity): string {
  if (identity.role !== 'authenticated') return identity.role
  const user = `user ${identity.user.slice(0, 8)}`
  return identity.tenant === undefined ? user : `${user} · tenant ${identity.tenant}`
}

/**
 * The users to offer for a collection's owners (`owner_id` values) or tenants (`tenant_id`
 * values). A tenant's rows are seen by any user of that tenant: a user the page already has
 * for it, else a new one.
 *
 * @example
 * ownerUsers('owner_id', ['6f1c…'], []) // [{ role: 'authenticated', user: '6f1c…' }]
 */
export function ownerUsers(
  column: 'owner_id' | 'tenant_id',
  values: readonly string[],
  known: readonly User[],
  newUser: () => string = () => crypto.randomUUID(),
): User[] {
  if (column === 'owner_id') return values.map((user) => ({ role: 'authenticated', user }))
  return values.map(
    (tenant) =>
      known.find((user) => user.tenant === tenant) ?? {
        role: 'authenticated',
        user: newUser(),
        tenant,
      },
  )
}

/**
 * `users` with `user` added at the end, unless one with the same key is there already.
 *
 * @example
 * withUser([], alice) // [alice]
 */
export function withUser(users: readonly User[], user: User): User[] {
  const key = identityKey(user)
  return users.some((known) => identityKey(known) === key) ? [...users] : [...users, user]
}
