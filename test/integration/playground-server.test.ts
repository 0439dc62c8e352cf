/**
 * The playground server's own routes on the test stack: what they answer, and a clear 4xx
 * for each kind of bad request, in the functions' `{"error":{"code","message"}}` shape.
 */
import http from 'node:http'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stack } from '../support/http.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })

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
})
afterAll(() => sql.end())

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

  it('lists the items collection as the catalog describes it', async () => {
    const { status, body } = await call('/api/collections')
    expect(status).toBe(200)
    expect(body.collections).toEqual([
      {
        name: 'items',
        table: 'public.items',
        column: 'embedding',
        type: 'extensions.vector(3)',
        dimensions: 3,
        metric: 'cosine',
        index: 'items_embedding_hnsw_idx',
        rows: 3,
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
  })

  it('explains a search and says whether the vector index served it', async () => {
    const { status, body } = await explain({ collection: 'items', embedding: [3, 1, 2], count: 4 })
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
