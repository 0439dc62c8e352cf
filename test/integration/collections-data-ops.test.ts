/**
 * The data operations beside upsert and query: list (pages, prefix, filter, cursors), update
 * (merge or replace, by id or filter, values without metadata), count, describe's estimate;
 * zero vectors refused where cosine distance has no answer; and the local user token.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { decodeJwt, jwtVerify } from 'jose'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOCAL_JWT_SECRET } from '../../stack/keys.ts'
import { ROOT } from '../../stack/paths.ts'
import { functionUrl, post, stack } from '../support/http.ts'
import { userToken } from '../support/tokens.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_data_ops'
const L2 = 't_data_ops_l2'
const admin = { key: stack.serviceRoleKey }

/** Row count and a checksum of every column a write could change. */
async function snapshot(table = NAME): Promise<string> {
  const [row] = await sql.unsafe(
    `select count(*)::int as count,
       md5(string_agg(id || embedding::text || metadata::text || updated_at::text, '|' order by id)) as checksum
     from public.${table}`,
  )
  return JSON.stringify(row)
}

const IDS = Array.from({ length: 25 }, (_, i) => `doc-${String(i).padStart(2, '0')}`)

beforeAll(async () => {
  await createCollection(sql, { name: NAME, dimensions: 3 })
  await createCollection(sql, { name: L2, dimensions: 3, metric: 'l2' })
  const records = [
    ...IDS.map((id, i) => ({
      id,
      values: [1, i + 1, 0],
      metadata: { parity: i % 2 ? 'odd' : 'even', n: i },
    })),
    { id: 'other-1', values: [0, 0, 1], metadata: { parity: 'odd' } },
  ]
  expect((await post(`vectors/${NAME}/upsert`, { records }, admin)).status).toBe(200)
})
afterAll(async () => {
  await dropCollection(sql, NAME)
  await dropCollection(sql, L2)
  await sql.end()
})

describe('list', () => {
  it('pages through every id in order, with prefix and filter', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: { status: number; body: { ids: string[]; nextCursor: string | null } } =
        await post(`vectors/${NAME}/list`, { limit: 10, cursor, prefix: 'doc-' })
      expect(page.status).toBe(200)
      seen.push(...page.body.ids)
      cursor = page.body.nextCursor
      pages++
    } while (cursor)
    expect(seen).toEqual(IDS)
    expect(pages).toBe(3)

    const odd = await post(`vectors/${NAME}/list`, { filter: { parity: 'odd' }, limit: 1000 })
    expect(odd.body).toEqual({
      ids: [...IDS.filter((_, i) => i % 2), 'other-1'],
      nextCursor: null,
    })
    expect((await post(`vectors/${NAME}/list`, {})).body.ids).toHaveLength(26)
    // A page exactly as long as what is left has no next page.
    expect((await post(`vectors/${NAME}/list`, { prefix: 'other', limit: 1 })).body).toEqual({
      ids: ['other-1'],
      nextCursor: null,
    })
  })

  it('refuses a malformed or foreign cursor (400), naming the fix', async () => {
    const first = await post(`vectors/${NAME}/list`, { limit: 5, prefix: 'doc-' })
    const cursor: string = first.body.nextCursor
    for (const bad of ['%%%', 'abc', btoa('{"v":1}'), cursor.slice(0, -2), `${cursor}x`]) {
      const answer = await post(`vectors/${NAME}/list`, { limit: 5, prefix: 'doc-', cursor: bad })
      expect(answer.status, `${bad} (of ${cursor})`).toBe(400)
      expect(answer.body.error.code).toBe('invalid_request')
      expect(answer.body.error.message, bad).toMatch(/^cursor: (malformed|made for another)/)
    }
    const foreign = [
      { limit: 5, cursor }, // another prefix
      { limit: 5, prefix: 'doc-', filter: { parity: 'odd' }, cursor }, // another filter
    ]
    for (const body of foreign) {
      const answer = await post(`vectors/${NAME}/list`, body)
      expect(answer.body.error.message).toMatch(/^cursor: made for another listing/)
    }
    // Another collection.
    const elsewhere = await post(`vectors/${L2}/list`, { limit: 5, prefix: 'doc-', cursor })
    expect(elsewhere.status).toBe(400)
    // In a public collection every reader sees the same rows: a user may go on from anon's
    // cursor (in owner collections a cursor is the user's own: pagination.test.ts).
    const asUser = await post(
      `vectors/${NAME}/list`,
      { limit: 5, prefix: 'doc-', cursor },
      { key: await userToken('0c0c0c0c-0000-4000-8000-00000000000c') },
    )
    expect(asUser.body.ids).toEqual(IDS.slice(5, 10))
    // The same listing goes on.
    const next = await post(`vectors/${NAME}/list`, { limit: 5, prefix: 'doc-', cursor })
    expect(next.body.ids).toEqual(IDS.slice(5, 10))
  })

  it('refuses bad bodies (400)', async () => {
    for (const body of [
      { limit: 0 },
      { limit: 1001 },
      { prefix: '' },
      { cursor: 5 },
      { filter: [] },
      { filter: { $bad: 1 } },
      { other: 1 },
    ]) {
      expect((await post(`vectors/${NAME}/list`, body)).status, JSON.stringify(body)).toBe(400)
    }
  })
})

describe('update', () => {
  it('merges or replaces metadata and changes values, by id, keeping what is not sent', async () => {
    const fetch = async (id: string) =>
      (await post(`vectors/${NAME}/fetch`, { ids: [id] })).body.records[0]
    expect(
      (await post(`vectors/${NAME}/update`, { id: 'doc-00', metadata: { tag: 'a' } }, admin)).body,
    ).toEqual({ updated: 1 })
    expect(await fetch('doc-00')).toEqual({
      id: 'doc-00',
      values: [1, 1, 0],
      metadata: { parity: 'even', n: 0, tag: 'a' },
    })
    await post(
      `vectors/${NAME}/update`,
      { id: 'doc-00', metadata: { only: true }, mode: 'replace' },
      admin,
    )
    expect((await fetch('doc-00')).metadata).toEqual({ only: true })
    await post(`vectors/${NAME}/update`, { id: 'doc-00', values: [2, 2, 2] }, admin)
    expect(await fetch('doc-00')).toEqual({
      id: 'doc-00',
      values: [2, 2, 2],
      metadata: { only: true },
    })
    expect(
      (await post(`vectors/${NAME}/update`, { id: 'nope', metadata: { x: 1 } }, admin)).body,
    ).toEqual({ updated: 0 })
  })

  it('updates every record a filter matches', async () => {
    const answer = await post(
      `vectors/${NAME}/update`,
      { filter: { parity: 'odd', n: { $lt: 6 } }, metadata: { low: true } },
      admin,
    )
    expect(answer.body).toEqual({ updated: 3 })
    expect((await post(`vectors/${NAME}/count`, { filter: { low: true } })).body).toEqual({
      count: 3,
    })
  })

  it('refuses what it cannot do (400), and a key that may not write (403), writing nothing', async () => {
    const before = await snapshot()
    const refused: [unknown, number, string][] = [
      [{ filter: {}, metadata: { x: 1 } }, 400, 'filter: expected at least one condition'],
      [{ id: 'doc-01' }, 400, 'expected "metadata" or "values"'],
      [{ filter: { n: 1 } }, 400, 'expected "metadata"'],
      [{ id: 'doc-01', filter: { n: 1 }, metadata: {} }, 400, 'expected either "id" or "filter"'],
      [{ metadata: { x: 1 } }, 400, 'expected either "id" or "filter"'],
      [
        { filter: { n: 1 }, metadata: {}, values: [1, 2, 3] },
        400,
        'values: values are updated by id only: a filter updates metadata',
      ],
      [{ id: 'doc-01', values: [1, 2] }, 400, 'values: expected 3 dimensions, not 2'],
      [
        { id: 'doc-01', metadata: { x: 1 }, mode: 'patch' },
        400,
        'mode: expected "merge" or "replace"',
      ],
    ]
    for (const [body, status, message] of refused) {
      const answer = await post(`vectors/${NAME}/update`, body, admin)
      expect(answer.status, JSON.stringify(body)).toBe(status)
      expect(answer.body.error.message, JSON.stringify(body)).toContain(message)
    }
    const anon = await post(`vectors/${NAME}/update`, { id: 'doc-01', metadata: { x: 1 } })
    expect(anon.status).toBe(403)
    expect(await snapshot()).toBe(before)
  })
})

describe('count and describe', () => {
  it('counts exactly, with or without a filter', async () => {
    expect((await post(`vectors/${NAME}/count`, {})).body).toEqual({ count: 26 })
    // doc-00's metadata was replaced above; the odd ones were merged into, and keep theirs.
    expect((await post(`vectors/${NAME}/count`, { filter: { parity: 'odd' } })).body).toEqual({
      count: 13,
    })
    expect((await post(`vectors/${NAME}/count`, { filter: {} })).status).toBe(400)
  })

  it('describes with an estimate from the statistics, not a count', async () => {
    await sql.unsafe(`analyze public.${NAME}`)
    const response = await fetch(functionUrl(`vectors/${NAME}/describe`), {
      headers: { apikey: stack.anonKey },
    })
    const body = await response.json()
    expect(body).toMatchObject({
      name: NAME,
      dimensions: 3,
      type: 'vector',
      metric: 'cosine',
      index: 'hnsw',
      access: 'public',
    })
    expect(body.estimatedCount).toBeGreaterThanOrEqual(20)
    expect(body.estimatedCount).toBeLessThanOrEqual(40)
    expect(body).not.toHaveProperty('count')
  })
})

describe('zero vectors', () => {
  const message =
    'a zero vector has no cosine distance (it has no direction): send one with a non-zero element'

  it('are refused by cosine collections (upsert, query, update) and items (insert, match)', async () => {
    const before = await snapshot()
    const upsert = await post(
      `vectors/${NAME}/upsert`,
      { records: [{ id: 'z', values: [0, 0, 0] }] },
      admin,
    )
    expect(upsert).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: `records.0.values: ${message}` } },
    })
    const query = await post(`vectors/${NAME}/query`, { vector: [0, 0, 0] })
    expect(query.body.error).toEqual({ code: 'invalid_request', message: `vector: ${message}` })
    const update = await post(`vectors/${NAME}/update`, { id: 'doc-01', values: [0, -0, 0] }, admin)
    expect(update.body.error.message).toBe(`values: ${message}`)
    expect(await snapshot()).toBe(before)

    const [{ n }] = (await sql`select count(*)::int as n from public.items`) as unknown as [
      { n: number },
    ]
    const insert = await post('items', { items: [{ embedding: [0, 0, 0] }] }, admin)
    expect(insert.body.error).toEqual({
      code: 'invalid_request',
      message: `items.0.embedding: ${message}`,
    })
    const match = await post('match-items', { embedding: [0, 0, 0], count: 2 })
    expect(match.body.error).toEqual({ code: 'invalid_request', message: `embedding: ${message}` })
    expect((await sql`select count(*)::int as n from public.items`)[0]!.n).toBe(n)
  })

  it('are accepted where the metric has a distance for them (l2)', async () => {
    const upsert = await post(
      `vectors/${L2}/upsert`,
      {
        records: [
          { id: 'z', values: [0, 0, 0] },
          { id: 'one', values: [1, 0, 0] },
        ],
      },
      admin,
    )
    expect(upsert.status).toBe(200)
    const query = await post(`vectors/${L2}/query`, { vector: [0, 0, 0], topK: 2 })
    expect(
      query.body.matches.map((m: { id: string; distance: number }) => [m.id, m.distance]),
    ).toEqual([
      ['z', 0],
      ['one', 1],
    ])
  })
})

describe('npm run token', () => {
  const run = promisify(execFile)

  it("prints a user's access token with Supabase Auth's claims, which the stack accepts", async () => {
    const user = '6f1c2f3e-9a0b-4c5d-8e7f-001122334455'
    const { stdout } = await run(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      [
        'scripts/token.ts',
        '--user',
        user,
        '--email',
        'ana@example.com',
        '--tenant',
        'acme',
        '--expires-in',
        '2h',
      ],
      { cwd: ROOT, env: { ...process.env, MATCHBOX_STATE_FILE: '/nonexistent/stack.json' } },
    )
    const token = stdout.trim()
    const { payload } = await jwtVerify(token, new TextEncoder().encode(LOCAL_JWT_SECRET), {
      algorithms: ['HS256'],
      audience: 'authenticated',
    })
    expect(payload).toMatchObject({
      sub: user,
      role: 'authenticated',
      aud: 'authenticated',
      email: 'ana@example.com',
      app_metadata: { tenant_id: 'acme' },
      iss: 'http://127.0.0.1:54321/auth/v1',
    })
    expect(payload.exp! - payload.iat!).toBe(7200)
    // The stack takes it as that user.
    const answer = await post(`vectors/${NAME}/count`, {}, { key: token })
    expect(answer).toMatchObject({ status: 200, body: { count: 26 } })
    expect(decodeJwt(token).role).toBe('authenticated')
  })

  it('refuses a user that is not a uuid or a bad lifetime, naming the fix', async () => {
    const tsx = path.join(ROOT, 'node_modules/.bin/tsx')
    const env = { ...process.env, MATCHBOX_STATE_FILE: '/nonexistent/stack.json' }
    await expect(
      run(tsx, ['scripts/token.ts', '--user', 'ana'], { cwd: ROOT, env }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('is not a uuid') })
    await expect(
      run(
        tsx,
        [
          'scripts/token.ts',
          '--user',
          '6f1c2f3e-9a0b-4c5d-8e7f-001122334455',
          '--expires-in',
          'soon',
        ],
        {
          cwd: ROOT,
          env,
        },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('--expires-in "soon"') })
    await expect(run(tsx, ['scripts/token.ts'], { cwd: ROOT, env })).rejects.toMatchObject({
      stderr: expect.stringContaining('expected --user <uuid>'),
    })
  })
})
