/**
 * The `items` and `match-items` functions over HTTP, through the gateway, into the
 * database: every status code the contract names.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_EF_SEARCH,
  MAX_BODY_BYTES,
  MAX_INSERT_BATCH,
} from '../../supabase/functions/_shared/contract.ts'
import { functionUrl, post, stack } from '../support/http.ts'
import { badTokens, signToken } from '../support/tokens.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const countItems = async () =>
  Number((await sql`select count(*)::int as n from public.items`)[0]!.n)

beforeAll(async () => {
  await sql`delete from public.items`
})
afterAll(() => sql.end())

describe('POST /functions/v1/items', () => {
  it('inserts a batch as service_role and answers the ids in input order (201)', async () => {
    const embeddings = [
      [1, 2, 3],
      [9, 9, 9],
      [1, 1, 1],
      [1, 2, 3],
    ]
    const { status, body } = await post(
      'items',
      { items: embeddings.map((embedding) => ({ embedding })) },
      {
        key: stack.serviceRoleKey,
      },
    )
    expect(status).toBe(201)
    expect(body.ids).toHaveLength(4)
    const rows =
      await sql`select id, embedding::text as e from public.items where id = any(${body.ids})`
    const byId = new Map(rows.map((row) => [Number(row.id), row.e]))
    expect(body.ids.map((id: number) => byId.get(id))).toEqual(
      embeddings.map((e) => JSON.stringify(e)),
    )
  })

  it('is all or nothing: one bad item rejects the batch and writes nothing', async () => {
    const before = await countItems()
    const { status, body } = await post(
      'items',
      { items: [{ embedding: [1, 2, 3] }, { embedding: [1, 2, 3, 4] }] },
      { key: stack.serviceRoleKey },
    )
    expect(status).toBe(400)
    expect(body.error).toEqual({
      code: 'dimension_mismatch',
      message: 'expected 3 dimensions, not 4',
    })
    expect(await countItems()).toBe(before)
  })

  it('refuses anon and authenticated callers (403): RLS and grants decide', async () => {
    const before = await countItems()
    const anon = await post('items', { items: [{ embedding: [1, 2, 3] }] }, { key: stack.anonKey })
    expect(anon.status).toBe(403)
    expect(anon.body.error.code).toBe('forbidden')
    const user = await signToken({
      role: 'authenticated',
      sub: '6c1c9a9e-55a4-4b52-8d32-2d1ab1a07d0e',
    })
    expect((await post('items', { items: [{ embedding: [1, 2, 3] }] }, { key: user })).status).toBe(
      403,
    )
    expect(await countItems()).toBe(before)
  })

  it('refuses a token whose role is not an API role (403), even when validly signed', async () => {
    const superuser = await signToken({ role: 'postgres' })
    const { status, body } = await post(
      'items',
      { items: [{ embedding: [1, 2, 3] }] },
      { key: superuser },
    )
    expect(status).toBe(403)
    expect(body.error.message).toBe('role "postgres" is not allowed')
  })

  it(`refuses more than ${MAX_INSERT_BATCH} items (400)`, async () => {
    const items = Array.from({ length: MAX_INSERT_BATCH + 1 }, () => ({ embedding: [1, 2, 3] }))
    const { status, body } = await post('items', { items }, { key: stack.serviceRoleKey })
    expect(status).toBe(400)
    expect(body.error.message).toBe('items: expected at most 1000 items')
  })

  it('refuses a body over the size limit (413)', async () => {
    const before = await countItems()
    const huge = `{"items":[{"embedding":[1,2,3]}],"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`
    const { status, body } = await post('items', huge, { key: stack.serviceRoleKey })
    expect(status).toBe(413)
    expect(body.error.code).toBe('payload_too_large')
    expect(await countItems()).toBe(before)
  })
})

describe('POST /functions/v1/match-items', () => {
  it('answers the nearest items, nearest first (200)', async () => {
    const { status, body } = await post('match-items', { embedding: [1, 2, 3], count: 2 })
    expect(status).toBe(200)
    expect(body.matches).toHaveLength(2)
    expect(body.matches[0]).toMatchObject({ embedding: [1, 2, 3], distance: 0 })
    expect(body.matches[1].distance).toBeGreaterThanOrEqual(body.matches[0].distance)
  })

  it('answers the pgvector dimension error (400 dimension_mismatch)', async () => {
    const { status, body } = await post('match-items', { embedding: [1, 2, 3, 4], count: 4 })
    expect(status).toBe(400)
    expect(body.error).toEqual({
      code: 'dimension_mismatch',
      message: 'expected 3 dimensions, not 4',
    })
  })

  it('refuses malformed JSON (400 invalid_json)', async () => {
    const { status, body } = await post('match-items', '{"embedding":[3,1,2],"count":4')
    expect(status).toBe(400)
    expect(body.error.code).toBe('invalid_json')
  })

  it.each([
    [
      'a string for a number',
      '{"embedding":[3,"1",2],"count":4}',
      'embedding.1: expected a finite number',
    ],
    [
      'a float4 overflow',
      '{"embedding":[1e39,1,2],"count":4}',
      'embedding.0: out of range for a float4 vector element',
    ],
    ['a count too large', '{"embedding":[3,1,2],"count":201}', 'count: expected at most 200'],
    ['an unknown key', '{"embedding":[3,1,2],"k":4}', 'body: unknown key "k"'],
    ['an array body', '[3,1,2]', 'body: expected a JSON object, not an array'],
  ])('refuses %s (400 invalid_request)', async (_, body, message) => {
    const answer = await post('match-items', body)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toEqual({ code: 'invalid_request', message })
  })

  it('refuses 1e400 (Infinity once parsed) when it parses the body (400 invalid_json)', async () => {
    const answer = await post('match-items', '{"embedding":[1e400,1,2],"count":4}')
    expect(answer.status).toBe(400)
    expect(answer.body.error).toEqual({
      code: 'invalid_json',
      message: 'embedding.0: not a finite number (it overflows a double)',
    })
  })

  it('refuses a missing key (401)', async () => {
    const { status, body } = await post('match-items', { embedding: [3, 1, 2] }, { key: null })
    expect(status).toBe(401)
    expect(body.error.code).toBe('unauthorized')
  })

  it.each(['malformed', 'wrong signature', 'expired', 'none algorithm'])(
    'refuses a %s token (401)',
    async (kind) => {
      const token = (await badTokens())[kind]!
      const { status } = await post('match-items', { embedding: [3, 1, 2] }, { key: token })
      expect(status).toBe(401)
    },
  )

  it('refuses other methods (405) and other content types (415)', async () => {
    const get = await fetch(functionUrl('match-items'), { headers: { apikey: stack.anonKey } })
    expect(get.status).toBe(405)
    expect((await get.json()).error.code).toBe('method_not_allowed')
    const form = await post('match-items', 'embedding=1', {
      headers: { 'content-type': 'text/plain' },
    })
    expect(form.status).toBe(415)
  })

  it('answers CORS preflights', async () => {
    const response = await fetch(functionUrl('match-items'), {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-methods')).toContain('POST')
  })

  it('answers 500 without internals when the database fails unexpectedly', async () => {
    await sql`alter table public.items rename to items_away`
    try {
      const { status, body } = await post('match-items', { embedding: [3, 1, 2] })
      expect(status).toBe(500)
      expect(body).toEqual({ error: { code: 'internal_error', message: 'internal server error' } })
    } finally {
      await sql`alter table public.items_away rename to items`
    }
    expect((await post('match-items', { embedding: [3, 1, 2] })).status).toBe(200)
  })
})

describe('match-items and public.match_items', () => {
  it('answer the same rows in the same order', async () => {
    await sql`delete from public.items`
    await post(
      'items',
      {
        items: Array.from({ length: 60 }, (_, i) => ({
          embedding: [(i % 7) + 1, (i % 5) + 1, (i % 3) + 1],
        })),
      },
      { key: stack.serviceRoleKey },
    )
    for (const [query, count] of [
      [[3, 1, 2], 4],
      [[1, 1, 1], 10],
      [[0.5, 2, 9], 50],
    ] as const) {
      const { body } = await post('match-items', { embedding: query, count })
      // The same ef_search as the function's default: HNSW is approximate, and a different
      // search width may find different neighbours.
      const rows = await sql.begin(async (tx) => {
        await tx`select set_config('hnsw.ef_search', ${String(DEFAULT_EF_SEARCH)}, true)`
        return tx`
          select id, embedding::text as embedding, distance
          from public.match_items(${`[${query.join(',')}]`}::extensions.vector, ${count})`
      })
      // Ties in distance may come in either order: compare by distance, then id.
      const byDistance = (pairs: [number, number][]) =>
        pairs.sort((a, b) => a[1] - b[1] || a[0] - b[0])
      expect(
        byDistance(body.matches.map((m: { id: number; distance: number }) => [m.id, m.distance])),
      ).toEqual(byDistance(rows.map((row) => [Number(row.id), row.distance as number])))
    }
  })
})

describe('items altered to another dimension while the functions run', () => {
  it('is served with the new dimension a second later, without a restart', async () => {
    const admin = { key: stack.serviceRoleKey }
    // The dimension count is read now, and kept.
    expect((await post('match-items', { embedding: [3, 1, 2] })).status).toBe(200)
    await sql`delete from public.items`
    await sql`alter table public.items alter column embedding type extensions.vector(4)`
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const inserted = await post('items', { items: [{ embedding: [1, 2, 3, 4] }] }, admin)
      expect(inserted.status).toBe(201)
      const found = await post('match-items', { embedding: [1, 2, 3, 4], count: 1 })
      expect(found.body.matches).toEqual([expect.objectContaining({ embedding: [1, 2, 3, 4] })])
      expect((await post('match-items', { embedding: [3, 1, 2] })).body.error.message).toBe(
        'expected 4 dimensions, not 3',
      )
    } finally {
      await sql`delete from public.items`
      await sql`alter table public.items alter column embedding type extensions.vector(3)`
    }
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await post('match-items', { embedding: [3, 1, 2] })).status).toBe(200)
  })
})
