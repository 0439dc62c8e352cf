/** Who the playground acts as: the picker's keys and labels, and the users it offers. */
import { describe, expect, it } from 'vitest'
import {
  ANON,
  identityKey,
  identityLabel,
  ownerUsers,
  SERVICE_ROLE,
  type User,
  withUser,
} from '../../playground/web/identity.ts'

const ALICE = '6f1c2f3e-9a0b-4c5d-8e7f-001122334455'
const BOB = '0b6c1d2e-3f40-4a5b-9c6d-7e8f90a1b2c3'

describe('identityKey', () => {
  it('gives each identity its own key, a tenant included', () => {
    const keys = [
      SERVICE_ROLE,
      ANON,
      { role: 'authenticated', user: ALICE },
      { role: 'authenticated', user: ALICE, tenant: 'acme' },
      { role: 'authenticated', user: ALICE, tenant: 'globex' },
      { role: 'authenticated', user: BOB },
    ].map((identity) => identityKey(identity as User))
    expect(keys).toEqual([
      'service_role',
      'anon',
      `user:${ALICE}`,
      `user:${ALICE}:acme`,
      `user:${ALICE}:globex`,
      `user:${BOB}`,
    ])
    expect(new Set(keys).size).toBe(keys.length)
  })
})

describe('identityLabel', () => {
  it('names a role by itself and a user by their id’s first 8 characters and tenant', () => {
    expect(identityLabel(SERVICE_ROLE)).toBe('service_role')
    expect(identityLabel(ANON)).toBe('anon')
    expect(identityLabel({ role: 'authenticated', user: ALICE })).toBe('user 6f1c2f3e')
    expect(identityLabel({ role: 'authenticated', user: ALICE, tenant: 'acme' })).toBe(
      'user 6f1c2f3e · tenant acme',
    )
  })
})

describe('ownerUsers', () => {
  it('offers each owner of an owner collection as that user', () => {
    expect(ownerUsers('owner_id', [ALICE, BOB], [])).toEqual([
      { role: 'authenticated', user: ALICE },
      { role: 'authenticated', user: BOB },
    ])
  })

  it('offers a tenant through a user the page has for it, else a new user of that tenant', () => {
    const known: User[] = [
      { role: 'authenticated', user: ALICE },
      { role: 'authenticated', user: BOB, tenant: 'acme' },
    ]
    const fresh = ['11111111-1111-4111-8111-111111111111']
    expect(ownerUsers('tenant_id', ['acme', 'globex'], known, () => fresh.shift()!)).toEqual([
      { role: 'authenticated', user: BOB, tenant: 'acme' },
      { role: 'authenticated', user: '11111111-1111-4111-8111-111111111111', tenant: 'globex' },
    ])
    expect(fresh).toEqual([])
  })

  it('makes a new user id for each tenant it has no user for', () => {
    const [a, b] = ownerUsers('tenant_id', ['a', 'b'], [])
    expect(a!.user).toMatch(/^[0-9a-f-]{36}$/)
    expect(a!.user).not.toBe(b!.user)
  })
})

describe('withUser', () => {
  it('adds a user once, keeping the order they came in', () => {
    const alice: User = { role: 'authenticated', user: ALICE }
    const bob: User = { role: 'authenticated', user: BOB }
    const users = withUser(withUser(withUser([], alice), bob), { ...alice })
    expect(users).toEqual([alice, bob])
    // The same user in a tenant is another identity.
    expect(withUser(users, { ...alice, tenant: 'acme' })).toHaveLength(3)
  })
})
