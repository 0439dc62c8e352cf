/**
 * Access modes without a database: the definition's check, the marker comment and how it is
 * read back, the grants and policies the migration writes, and a local user's token.
 */
import { decodeJwt, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { CollectionSpecError, parseCollectionSpec } from '../../cli/collections/spec.ts'
import { LOCAL_JWT_SECRET, signUserToken } from '../../stack/keys.ts'
import { declaredAccess, declaredMetric } from '../../supabase/functions/vectors/shape.ts'
import { lifetimeSeconds } from '../../scripts/token.ts'

describe('--access', () => {
  it('defaults to public and takes owner or tenant', () => {
    expect(parseCollectionSpec({ name: 'docs', dimensions: 3 }).access).toBe('public')
    expect(parseCollectionSpec({ name: 'docs', dimensions: 3, access: 'owner' }).access).toBe(
      'owner',
    )
    expect(() => parseCollectionSpec({ name: 'docs', dimensions: 3, access: 'team' })).toThrow(
      new CollectionSpecError('--access must be one of public, owner, tenant, not "team"'),
    )
  })
})

describe('--metric', () => {
  it('sends bit distances on float vectors to --type bit', () => {
    for (const type of ['vector', 'halfvec']) {
      for (const metric of ['hamming', 'jaccard']) {
        expect(() => parseCollectionSpec({ name: 'docs', dimensions: 3, type, metric })).toThrow(
          new CollectionSpecError(`--metric ${metric} is for binary vectors: use --type bit`),
        )
      }
    }
    expect(
      parseCollectionSpec({ name: 'docs', dimensions: 8, type: 'bit', metric: 'jaccard' }),
    ).toMatchObject({
      type: 'bit',
      metric: 'jaccard',
    })
  })
})

describe('the marker comment', () => {
  it('names the access mode unless public, and reads back as written', () => {
    const sql = (access: string) =>
      collectionMigrationSql(parseCollectionSpec({ name: 'docs', dimensions: 3, access }))
    expect(sql('public')).toContain(`'matchbox collection {"metric":"cosine"}'`)
    expect(sql('owner')).toContain(`'matchbox collection {"metric":"cosine","access":"owner"}'`)
    expect(declaredAccess('matchbox collection {"metric":"cosine","access":"tenant"}')).toBe(
      'tenant',
    )
    expect(declaredAccess('matchbox collection {"metric":"l2"}')).toBe('public')
    expect(declaredAccess('matchbox collection')).toBe('public')
    // An unknown mode is not guessed at: the table is no collection.
    expect(declaredAccess('matchbox collection {"metric":"l2","access":"team"}')).toBeNull()
    expect(declaredAccess('matchbox collection {oops')).toBeNull()
    expect(declaredAccess('some other comment')).toBeNull()
    expect(declaredMetric('matchbox collection {"metric":"l2","access":"owner"}')).toBe('l2')
  })
})

describe('the migration of an owner or tenant collection', () => {
  const owner = collectionMigrationSql(
    parseCollectionSpec({ name: 'notes', dimensions: 3, access: 'owner' }),
  )
  const tenant = collectionMigrationSql(
    parseCollectionSpec({ name: 'notes', dimensions: 3, access: 'tenant' }),
  )

  it('has the column, its index and policies written with a subselect', () => {
    expect(owner).toContain('owner_id uuid not null default auth.uid(),')
    expect(owner).toContain('create index notes_owner_id_idx on public.notes (owner_id, id);')
    expect(owner.match(/owner_id = \(select auth\.uid\(\)\)/g)).toHaveLength(5)
    expect(tenant).toContain(
      "tenant_id text not null default (auth.jwt() -> 'app_metadata' ->> 'tenant_id')",
    )
    expect(tenant).toContain('create index notes_tenant_id_idx on public.notes (tenant_id, id);')
    expect(
      tenant.match(/tenant_id = \(select auth\.jwt\(\) -> 'app_metadata' ->> 'tenant_id'\)/g),
    ).toHaveLength(5)
  })

  it('gives anon nothing, and users no right to set or change the owner', () => {
    for (const sql of [owner, tenant]) {
      expect(sql).not.toMatch(/grant [^;]* to [^;]*anon/)
      expect(sql).not.toMatch(/policy [^;]* to [^;]*anon/)
      expect(sql).toContain(
        'grant insert (id, embedding, metadata), update (embedding, metadata) on table public.notes to authenticated;',
      )
      expect(sql).toContain('to authenticated, service_role;')
      expect(sql).toContain('security invoker')
    }
  })
})

describe('a local user token', () => {
  it("carries Supabase Auth's claims, signed with the secret", async () => {
    const token = await signUserToken(
      {
        user: '6F1C2F3E-9A0B-4C5D-8E7F-001122334455',
        email: 'ana@example.com',
        tenant: 'acme',
        expiresInSeconds: 60,
        now: 1_800_000_000,
      },
      LOCAL_JWT_SECRET,
    )
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      sub: '6f1c2f3e-9a0b-4c5d-8e7f-001122334455',
      role: 'authenticated',
      aud: 'authenticated',
      email: 'ana@example.com',
      app_metadata: { provider: 'email', providers: ['email'], tenant_id: 'acme' },
      iat: 1_800_000_000,
      exp: 1_800_000_060,
      iss: 'http://127.0.0.1:54321/auth/v1',
    })
    await expect(
      jwtVerify(token, new TextEncoder().encode(LOCAL_JWT_SECRET), {
        currentDate: new Date(1_800_000_010_000),
      }),
    ).resolves.toBeDefined()
    expect(
      decodeJwt(await signUserToken({ user: claims.sub! }, LOCAL_JWT_SECRET)),
    ).not.toHaveProperty('app_metadata.tenant_id')
  })

  it('refuses a user that is not a uuid, and reads lifetimes', () => {
    expect(() => signUserToken({ user: 'ana' }, LOCAL_JWT_SECRET)).toThrow('is not a uuid')
    expect(lifetimeSeconds('90s')).toBe(90)
    expect(lifetimeSeconds('1h')).toBe(3600)
    expect(lifetimeSeconds('7d')).toBe(604_800)
    for (const bad of ['1', '0h', '1w', '-1h', 'soon']) {
      expect(() => lifetimeSeconds(bad), bad).toThrow('expected a lifetime such as')
    }
  })
})
