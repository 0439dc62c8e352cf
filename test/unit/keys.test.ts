import { decodeJwt, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  LOCAL_ANON_KEY,
  LOCAL_JWT_SECRET,
  LOCAL_SERVICE_ROLE_KEY,
  resolveKeys,
} from '../../stack/keys.ts'

const secret = (value: string) => new TextEncoder().encode(value)

describe('local keys', () => {
  it('are the standard Supabase development keys, signed with the standard secret', async () => {
    expect((await jwtVerify(LOCAL_ANON_KEY, secret(LOCAL_JWT_SECRET))).payload.role).toBe('anon')
    expect((await jwtVerify(LOCAL_SERVICE_ROLE_KEY, secret(LOCAL_JWT_SECRET))).payload.role).toBe(
      'service_role',
    )
  })

  it('are used when nothing overrides them', async () => {
    expect(await resolveKeys({})).toEqual({
      jwtSecret: LOCAL_JWT_SECRET,
      anonKey: LOCAL_ANON_KEY,
      serviceRoleKey: LOCAL_SERVICE_ROLE_KEY,
    })
  })

  it('are signed afresh with an overriding secret', async () => {
    const own = 'another-secret-that-is-at-least-32-characters'
    const keys = await resolveKeys({ SUPABASE_AUTH_JWT_SECRET: own })
    expect(keys.jwtSecret).toBe(own)
    expect((await jwtVerify(keys.anonKey, secret(own))).payload.role).toBe('anon')
    expect(decodeJwt(keys.serviceRoleKey).role).toBe('service_role')
  })
})
