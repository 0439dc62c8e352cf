/**
 * The playground server's own routes on the test stack: what they answer, for `items` and
 * for collections, and a clear 4xx for each kind of bad request, in the functions'
 * `{"error":{"code","message"}}` shape.
 */
import http from 'node:http'
import { jwtVerify } from 'jose'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { parseCollectionSpec } from '../../cli/collections/spec.ts'
import { createMatchboxClient } from '../../src/index.ts'
import { LOCAL_JWT_SECRET } from '../../stack/keys.ts'
import { stack } from '../support/http.ts'
import { withRowsForTheIndex } from '../support/planner.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })

/** This file's collections (its own names: other files make and drop theirs). */
const DOCS = 't_pg_srv_docs'
const BITS = 't_pg_srv_bits'
const TERMS = 't_pg_srv_terms'
/** A table with a vector column but no collection marker: not a collection. */
const PLAIN = 't_pg_srv_plain'

// deno-lint-ignore no-explicit-any -- answers are checked field by field
async function call(route: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stack.playgroundUrl}${route}`, init)
  return { status: response.status, body: await response.json() }
}

const explain = (body: unknown, headers: Record<string, string> = {}) =>
  call('/api/explain', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

beforeAll(async () => {
  await sql`delete from public.items`
  await sql`insert into public.items (embedding) values ('[1,2,3]'), ('[3,1,2]'), ('[1,1,1]')`
  await createCollection(sql, { name: DOCS, dimensions: 3 })
  await createCollection(sql, { name: BITS, dimensions: 8, type: 'bit', index: 'ivfflat' })
  await createCollection(sql, { name: TERMS, dimensions: 10, type: 'sparsevec', metric: 'l2' })
  await sql.unsafe(`drop table if exists public.${PLAIN};
    create table public.${PLAIN} (id text primary key, embedding extensions.vector(3))`)
  // Inserted out of order: the rows come back by id.
  await sql.unsafe(`insert into public.${DOCS} (id, embedding, metadata) values
    ('b', '[3,1,2]', '{"category":"news","year":2024}'),
    ('a', '[1,2,3]', '{"category":"sport"}'),
    ('c', '[1,1,1]', '{}')`)
  await sql.unsafe(`insert into public.${BITS} (id, embedding) values ('x', '01010101')`)
  await sql.unsafe(`insert into public.${TERMS} (id, embedding, metadata)
    values ('t', '{1:0.5,8:2}/10', '{"lang":"en"}')`)
})
afterAll(async () => {
  for (const name of [DOCS, BITS, TERMS, PLAIN]) await dropCollection(sql, name)
  await sql.end()
})

describe('the playground server', () => {
  it('serves the page with a policy that lets it reach only itself and the functions', async () => {
    const response = await fetch(stack.playgroundUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toContain(
      `connect-src 'self' ${stack.apiUrl}`,
    )
    expect(await response.text()).toContain('<script type="module" src="/assets/main.js">')
  })

  it('lends the page the stack’s URL and keys', async () => {
    expect(await call('/config.json')).toEqual({
      status: 200,
      body: { apiUrl: stack.apiUrl, anonKey: stack.anonKey, serviceRoleKey: stack.serviceRoleKey },
    })
  })

  it('lists items, then every collection, as the catalog describes them', async () => {
    const { status, body } = await call('/api/collections')
    expect(status).toBe(200)
    expect(body.collections[0]).toEqual({
      name: 'items',
      kind: 'items',
      table: 'public.items',
      column: 'embedding',
      type: 'extensions.vector(3)',
      vectorType: 'vector',
      dimensions: 3,
      metric: 'cosine',
      index: 'items_embedding_hnsw_idx',
      rows: 3,
      access: 'public',
      textLanguage: null,
    })
    const names = body.collections.map((collection: { name: string }) => collection.name)
    expect(names).toEqual(expect.arrayContaining([DOCS, BITS, TERMS]))
    expect(names).not.toContain(PLAIN)
    // After items, by name.
    expect(names.slice(1)).toEqual([...names.slice(1)].sort())
    const byName = new Map(
      body.collections.map((collection: { name: string }) => [collection.name, collection]),
    )
    /** A collection as `createCollection` made it: its own table, column and index names. */
    const described = (name: string, fields: Record<string, unknown>) => ({
      name,
      kind: 'collection',
      table: `public.${name}`,
      column: 'embedding',
      index: `${name}_embedding_idx`,
      access: 'public',
      textLanguage: null,
      ...fields,
    })
    expect(byName.get(DOCS)).toEqual(
      described(DOCS, {
        type: 'extensions.vector(3)',
        vectorType: 'vector',
        dimensions: 3,
        metric: 'cosine',
        rows: 3,
      }),
    )
    expect(byName.get(BITS)).toEqual(
      described(BITS, {
        type: 'bit(8)',
        vectorType: 'bit',
        dimensions: 8,
        metric: 'hamming',
        rows: 1,
      }),
    )
    expect(byName.get(TERMS)).toEqual(
      described(TERMS, {
        type: 'extensions.sparsevec(10)',
        vectorType: 'sparsevec',
        dimensions: 10,
        metric: 'l2',
        rows: 1,
      }),
    )
  })

  it('names a collection without its vector index by the metric its marker declares', async () => {
    await sql.unsafe(`drop index public.${TERMS}_embedding_idx`)
    try {
      const { body } = await call('/api/collections')
      const terms = body.collections.find((c: { name: string }) => c.name === TERMS)
      expect(terms).toMatchObject({ metric: 'l2', index: null })
    } finally {
      await sql.unsafe(`create index ${TERMS}_embedding_idx on public.${TERMS}
        using hnsw (embedding extensions.sparsevec_l2_ops)`)
    }
  })

  it('reads a collection’s rows by id, with text ids, metadata and values in the API’s forms', async () => {
    const { status, body } = await call(`/api/rows?collection=${DOCS}&limit=2`)
    expect(status).toBe(200)
    expect(body).toEqual({
      collection: DOCS,
      rows: [
        { id: 'a', embedding: [1, 2, 3], metadata: { category: 'sport' } },
        { id: 'b', embedding: [3, 1, 2], metadata: { category: 'news', year: 2024 } },
      ],
      total: 3,
      limit: 2,
    })
    expect((await call(`/api/rows?collection=${BITS}`)).body.rows).toEqual([
      { id: 'x', embedding: '01010101', metadata: {} },
    ])
    // 0-based indices, as the vectors function answers them (pgvector's text counts from 1).
    expect((await call(`/api/rows?collection=${TERMS}`)).body.rows).toEqual([
      {
        id: 't',
        embedding: { indices: [0, 7], values: [0.5, 2], dimensions: 10 },
        metadata: { lang: 'en' },
      },
    ])
  })

  it('reads rows by id, at most as many as asked', async () => {
    const { status, body } = await call('/api/rows?collection=items&limit=2')
    expect(status).toBe(200)
    expect(body).toMatchObject({ collection: 'items', total: 3, limit: 2 })
    expect(body.rows.map((row: { embedding: number[] }) => row.embedding)).toEqual([
      [1, 2, 3],
      [3, 1, 2],
    ])
    expect(body.rows[0].id).toBeTypeOf('number')
    expect(body.rows[0]).not.toHaveProperty('metadata')
  })

  it('orders items by their numeric id, not as text', async () => {
    // Far past what the identity sequence hands out in a test run, and deleted after.
    const ids = [99_999_999, 100_000_000]
    await sql`insert into public.items (id, embedding) values (${ids[0]!}, '[1,0,0]'), (${ids[1]!}, '[0,1,0]')`
    try {
      const { body } = await call('/api/rows?collection=items')
      expect(body.rows.slice(-2).map((row: { id: number }) => row.id)).toEqual(ids)
    } finally {
      await sql`delete from public.items where id = any(${ids})`
    }
  })

  it('explains a search and says whether the vector index served it', async () => {
    const { status, body } = await withRowsForTheIndex(sql, () =>
      explain({ collection: 'items', embedding: [3, 1, 2], count: 4 }),
    )
    expect(status).toBe(200)
    expect(body.indexUsed).toBe(true)
    expect(body.index).toBe('items_embedding_hnsw_idx')
    expect(body.plan.join('\n')).toContain('Index Scan using items_embedding_hnsw_idx on items')
  })

  it.each([
    [
      '/api/rows',
      400,
      'invalid_request',
      'collection: expected a collection name, e.g. ?collection=items',
    ],
    [
      '/api/rows?collection=items&limit=1001',
      400,
      'invalid_request',
      'limit: expected at most 1000',
    ],
    ['/api/rows?collection=items&limit=x', 400, 'invalid_request', 'limit: expected an integer'],
    [
      '/api/rows?collection=nope',
      404,
      'not_found',
      'no collection "nope": GET /api/collections lists them',
    ],
    [
      `/api/rows?collection=${PLAIN}`,
      404,
      'not_found',
      `no collection "${PLAIN}": GET /api/collections lists them`,
    ],
    [
      `/api/rows?collection=${encodeURIComponent("x'; drop table public.items; --")}`,
      404,
      'not_found',
      `no collection "x'; drop table public.items; --": GET /api/collections lists them`,
    ],
    [
      '/api/rows?collection=Items',
      404,
      'not_found',
      'no collection "Items": GET /api/collections lists them',
    ],
    ['/api/explain', 405, 'method_not_allowed', 'method GET is not allowed: use POST'],
    ['/nope', 404, 'not_found', 'no route for /nope: the page is at /, its data under /api/'],
  ])('GET %s answers %i %s', async (route, status, code, message) => {
    expect(await call(route)).toEqual({ status, body: { error: { code, message } } })
  })

  it('refuses bad explain bodies with the reason', async () => {
    expect(await explain({ collection: 'items', embedding: [1, 2, 3, 4], count: 4 })).toEqual({
      status: 400,
      body: { error: { code: 'dimension_mismatch', message: 'expected 3 dimensions, not 4' } },
    })
    expect((await explain({ collection: 'items', embedding: [1, 2, 3], count: 0 })).body).toEqual({
      error: { code: 'invalid_request', message: 'count: expected at least 1' },
    })
    expect((await explain({ embedding: [1, 2, 3] })).body.error.message).toBe(
      'collection: expected a collection name',
    )
    expect(await explain({ collection: DOCS, embedding: [1, 2, 3], count: 4 })).toEqual({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: `collection: "${DOCS}" is a collection: its query answers its own plan with "explain": true`,
        },
      },
    })
    expect((await explain('{"collection":')).body.error.code).toBe('invalid_json')
    expect((await explain('', {})).body).toEqual({
      error: { code: 'invalid_json', message: 'request body is empty: send a JSON object' },
    })
    expect(await explain('{}', { 'content-type': 'text/plain' })).toEqual({
      status: 415,
      body: {
        error: {
          code: 'unsupported_media_type',
          message: 'content-type must be application/json, not text/plain',
        },
      },
    })
  })

  it('lets no other site read its answers (no CORS headers)', async () => {
    const response = await fetch(`${stack.playgroundUrl}/config.json`, {
      headers: { origin: 'http://evil.example' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('answers only requests addressed to the loopback host (no DNS rebinding)', async () => {
    const { port } = new URL(stack.playgroundUrl)
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          path: '/config.json',
          headers: { host: `evil.example:${port}` },
        },
        (response) => {
          let body = ''
          response.on('data', (chunk) => (body += chunk))
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
        },
      )
      request.on('error', reject)
    })
    expect(answer.status).toBe(403)
    expect(JSON.parse(answer.body).error.code).toBe('forbidden')
    expect(answer.body).not.toContain(stack.serviceRoleKey)
  })
})

describe('the playground server, for acting as a user', () => {
  /** An owner collection and a tenant collection, as `collection:new --access` makes them. */
  const OWNED = 't_pg_srv_owned'
  const TEAM = 't_pg_srv_team'
  const ALICE = '6f1c2f3e-9a0b-4c5d-8e7f-001122334455'
  const BOB = '0b6c1d2e-3f40-4a5b-9c6d-7e8f90a1b2c3'

  const token = (body: unknown, headers: Record<string, string> = {}) =>
    call('/api/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  /** The ids a user's token lets the SDK list in `collection`, and how many it counts. */
  async function seenWith(accessToken: string, collection: string) {
    const records = createMatchboxClient({
      url: stack.apiUrl,
      key: stack.anonKey,
      accessToken,
    }).collection(collection)
    const [listed, counted] = await Promise.all([records.list(), records.count()])
    expect(listed.error).toBeNull()
    expect(counted.error).toBeNull()
    return { ids: listed.data!.ids, count: counted.data!.count }
  }

  beforeAll(async () => {
    for (const [name, access] of [
      [OWNED, 'owner'],
      [TEAM, 'tenant'],
    ] as const) {
      await dropCollection(sql, name)
      await sql.unsafe(collectionMigrationSql(parseCollectionSpec({ name, dimensions: 3, access })))
    }
    await sql.unsafe(`insert into public.${OWNED} (id, embedding, owner_id) values
      ('a1', '[1,0,0]', '${ALICE}'), ('a2', '[0,1,0]', '${ALICE}'), ('b1', '[0,0,1]', '${BOB}')`)
    await sql.unsafe(`insert into public.${TEAM} (id, embedding, tenant_id) values
      ('x1', '[1,0,0]', 'acme'), ('x2', '[0,1,0]', 'acme'), ('y1', '[0,0,1]', 'globex')`)
  })
  afterAll(async () => {
    for (const name of [OWNED, TEAM]) await dropCollection(sql, name)
  })

  it('describes each collection with its access mode, and a text collection with its language', async () => {
    const TEXT = 't_pg_srv_text'
    await dropCollection(sql, TEXT)
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name: TEXT, dimensions: 3, text: true })),
    )
    try {
      const { body } = await call('/api/collections')
      const byName = new Map(body.collections.map((c: { name: string }) => [c.name, c] as const))
      expect(byName.get('items')).toMatchObject({ access: 'public', textLanguage: null })
      expect(byName.get(OWNED)).toMatchObject({ access: 'owner', textLanguage: null })
      expect(byName.get(TEAM)).toMatchObject({ access: 'tenant', textLanguage: null })
      expect(byName.get(TEXT)).toMatchObject({
        access: 'public',
        textLanguage: 'pg_catalog.english',
      })
    } finally {
      await dropCollection(sql, TEXT)
    }
  })

  it('lists who owns the rows of an owner or a tenant collection, the most rows first', async () => {
    expect(await call(`/api/owners?collection=${OWNED}`)).toEqual({
      status: 200,
      body: {
        collection: OWNED,
        column: 'owner_id',
        owners: [
          { value: ALICE, rows: 2 },
          { value: BOB, rows: 1 },
        ],
      },
    })
    expect((await call(`/api/owners?collection=${TEAM}`)).body).toEqual({
      collection: TEAM,
      column: 'tenant_id',
      owners: [
        { value: 'acme', rows: 2 },
        { value: 'globex', rows: 1 },
      ],
    })
  })

  it.each([
    [
      '/api/owners',
      400,
      'invalid_request',
      'collection: expected a collection name, e.g. ?collection=items',
    ],
    [
      '/api/owners?collection=items',
      400,
      'invalid_request',
      'collection: "items" is public: its rows have no owner or tenant',
    ],
    [
      '/api/owners?collection=nope',
      404,
      'not_found',
      'no collection "nope": GET /api/collections lists them',
    ],
    ['/api/token', 405, 'method_not_allowed', 'method GET is not allowed: use POST'],
  ])('GET %s answers %i %s', async (route, status, code, message) => {
    expect(await call(route)).toEqual({ status, body: { error: { code, message } } })
  })

  it('mints a user’s access token as Supabase Auth would, which the functions take as theirs', async () => {
    const { status, body } = await token({ user: ALICE.toUpperCase() })
    expect(status).toBe(200)
    expect(body).toEqual({
      user: ALICE,
      tenant: null,
      accessToken: expect.any(String),
      expiresAt: expect.any(Number),
    })
    const { payload } = await jwtVerify(
      body.accessToken,
      new TextEncoder().encode(LOCAL_JWT_SECRET),
    )
    expect(payload).toMatchObject({
      sub: ALICE,
      role: 'authenticated',
      aud: 'authenticated',
      iss: `${stack.apiUrl}/auth/v1`,
      exp: body.expiresAt,
    })
    expect(payload.exp! - payload.iat!).toBe(3600)
    expect(payload.app_metadata).not.toHaveProperty('tenant_id')
    // Through the SDK, as an app signed in as Alice: her rows, and only hers.
    expect(await seenWith(body.accessToken, OWNED)).toEqual({ ids: ['a1', 'a2'], count: 2 })
    const bob = (await token({ user: BOB })).body
    expect(await seenWith(bob.accessToken, OWNED)).toEqual({ ids: ['b1'], count: 1 })
  })

  it('mints a new user when none is named, in a tenant when one is', async () => {
    const first = (await token({})).body
    const second = (await token({ tenant: 'acme' })).body
    expect(first.user).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    expect(second.user).not.toBe(first.user)
    expect(second.tenant).toBe('acme')
    // A new user owns nothing yet; a user of acme sees acme's rows.
    expect(await seenWith(first.accessToken, OWNED)).toEqual({ ids: [], count: 0 })
    expect(await seenWith(second.accessToken, TEAM)).toEqual({ ids: ['x1', 'x2'], count: 2 })
  })

  it('refuses bad token bodies with the reason', async () => {
    const refusal = async (body: unknown, headers?: Record<string, string>) =>
      (await token(body, headers)).body.error
    expect(await token({ user: 'alice' })).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'user: expected a user id (a uuid)' } },
    })
    expect(await refusal({ tenant: '' })).toEqual({
      code: 'invalid_request',
      message: 'tenant: expected a non-empty tenant id',
    })
    expect(await refusal({ tenant: 7 })).toEqual({
      code: 'invalid_request',
      message: 'tenant: expected a tenant id (a string)',
    })
    expect(await refusal({ tenant: 't'.repeat(257) })).toEqual({
      code: 'invalid_request',
      message: 'tenant: expected at most 256 characters',
    })
    // A role is the token's to say, not the caller's.
    expect(await refusal({ user: ALICE, role: 'service_role' })).toMatchObject({
      code: 'invalid_request',
    })
    expect(await refusal([])).toMatchObject({ code: 'invalid_request' })
    expect(await refusal('{"user":')).toMatchObject({ code: 'invalid_json' })
    expect(await refusal('{}', { 'content-type': 'text/plain' })).toMatchObject({
      code: 'unsupported_media_type',
    })
  })
})
