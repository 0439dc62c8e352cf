/**
 * Who may do what: every function and route against every kind of key, over HTTP; then the
 * same question asked of the database directly, role by role.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { functionUrl, stack } from '../support/http.ts'
import { badTokens, signToken } from '../support/tokens.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const COLLECTION = 't_auth'

/** One call of each route, with a valid body: only the key decides the answer. */
const ROUTES: Record<string, { path: string; method: 'GET' | 'POST'; body?: unknown }> = {
  'items insert': { path: 'items', method: 'POST', body: { items: [{ embedding: [1, 2, 3] }] } },
  'match-items': { path: 'match-items', method: 'POST', body: { embedding: [1, 2, 3], count: 1 } },
  'vectors upsert': {
    path: `vectors/${COLLECTION}/upsert`,
    method: 'POST',
    body: { records: [{ id: 'k', values: [1, 2, 3] }] },
  },
  'vectors fetch': { path: `vectors/${COLLECTION}/fetch`, method: 'POST', body: { ids: ['k'] } },
  'vectors query': {
    path: `vectors/${COLLECTION}/query`,
    method: 'POST',
    body: { vector: [1, 2, 3], topK: 1 },
  },
  'vectors delete': {
    path: `vectors/${COLLECTION}/delete`,
    method: 'POST',
    body: { ids: ['nobody'] },
  },
  'vectors describe': { path: `vectors/${COLLECTION}/describe`, method: 'GET' },
}

const READ = {
  'items insert': 403,
  'match-items': 200,
  'vectors upsert': 403,
  'vectors fetch': 200,
  'vectors query': 200,
  'vectors delete': 403,
  'vectors describe': 200,
}
const WRITE = {
  'items insert': 201,
  'match-items': 200,
  'vectors upsert': 200,
  'vectors fetch': 200,
  'vectors query': 200,
  'vectors delete': 200,
  'vectors describe': 200,
}
const DENIED = Object.fromEntries(Object.keys(ROUTES).map((route) => [route, 401]))

/** The expected status of each route for each kind of key: the matrix the README documents. */
const MATRIX: Record<string, Record<string, number>> = {
  'no key': DENIED,
  malformed: DENIED,
  'wrong signature': DENIED,
  expired: DENIED,
  'none algorithm': DENIED,
  anon: READ,
  authenticated: READ,
  service_role: WRITE,
}

let keys: Record<string, string | null> = {}

beforeAll(async () => {
  await createCollection(sql, { name: COLLECTION, dimensions: 3 })
  keys = {
    'no key': null,
    ...(await badTokens()),
    anon: stack.anonKey,
    authenticated: await signToken({
      role: 'authenticated',
      sub: '0b6f8b62-5b8e-4a37-9a62-9d3f5f9e6a11',
    }),
    service_role: stack.serviceRoleKey,
  }
})
afterAll(async () => {
  await dropCollection(sql, COLLECTION)
  await sql.end()
})

describe('HTTP: route x key', () => {
  const cells = Object.entries(MATRIX).flatMap(([key, row]) =>
    Object.entries(row).map(([route, status]) => ({ key, route, status })),
  )

  it('has 56 cells', () => expect(cells).toHaveLength(56))

  it.each(cells)('$key → $route: $status', async ({ key, route, status }) => {
    const { path, method, body } = ROUTES[route]!
    const token = keys[key]
    const response = await fetch(functionUrl(path), {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    expect(response.status).toBe(status)
    if (status >= 400) {
      const answer = await response.json()
      expect(answer.error.code).toBe(status === 401 ? 'unauthorized' : 'forbidden')
    }
  })
})

describe('SQL: role x statement', () => {
  /** Runs `statement` as `role` and always rolls back; answers 'ok' or the SQLSTATE. */
  async function asRole(role: string, statement: string): Promise<string> {
    try {
      await sql.begin(async (tx) => {
        await tx`select set_config('role', ${role}, true)`
        await tx.unsafe(statement)
        throw new Error('rollback')
      })
    } catch (error) {
      const code = (error as { code?: string }).code
      return code ?? 'ok'
    }
    return 'ok'
  }

  const STATEMENTS = {
    select: `select count(*) from public.${COLLECTION}`,
    insert: `insert into public.${COLLECTION} (id, embedding) values ('z', '[1,2,3]')`,
    update: `update public.${COLLECTION} set metadata = '{"x":1}'`,
    delete: `delete from public.${COLLECTION}`,
    match: `select * from public.match_${COLLECTION}('[1,2,3]', 1)`,
  }
  const EXPECTED: Record<string, Record<string, string>> = {
    anon: { select: 'ok', insert: '42501', update: '42501', delete: '42501', match: 'ok' },
    authenticated: { select: 'ok', insert: '42501', update: '42501', delete: '42501', match: 'ok' },
    service_role: { select: 'ok', insert: 'ok', update: 'ok', delete: 'ok', match: 'ok' },
  }

  it.each(Object.keys(EXPECTED))('%s on a collection', async (role) => {
    const actual: Record<string, string> = {}
    for (const [name, statement] of Object.entries(STATEMENTS))
      actual[name] = await asRole(role, statement)
    expect(actual).toEqual(EXPECTED[role])
  })

  it('keeps the roles from everything else Matchbox made', async () => {
    for (const role of ['anon', 'authenticated']) {
      expect(await asRole(role, 'select public.matchbox_touch_updated_at()')).toBe('42501')
      expect(await asRole(role, 'select * from supabase_migrations.schema_migrations')).toBe(
        '42501',
      )
    }
  })
})
