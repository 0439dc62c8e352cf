/** The SDK's collection client against the real vectors function. */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMatchboxClient,
  MatchboxHttpError,
  MatchboxValidationError,
} from '../../src/index.ts'
import { stack } from '../support/http.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

interface Doc {
  category: string
  year: number
  author?: { name: string }
}

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const admin = createMatchboxClient({
  url: stack.apiUrl,
  key: stack.serviceRoleKey,
}).collection<Doc>('t_sdk')
const reader = createMatchboxClient({ url: stack.apiUrl, key: stack.anonKey }).collection<Doc>(
  't_sdk',
)

beforeAll(() => createCollection(sql, { name: 't_sdk', dimensions: 3, metric: 'l2' }))
afterAll(async () => {
  await dropCollection(sql, 't_sdk')
  await sql.end()
})

describe('client.collection<Doc>(name)', () => {
  it('upserts, fetches, queries with a typed filter, describes and deletes', async () => {
    const upserted = await admin.upsert([
      {
        id: 'a',
        values: [1, 0, 0],
        metadata: { category: 'news', year: 2024, author: { name: 'ana' } },
      },
      { id: 'b', values: [0, 1, 0], metadata: { category: 'blog', year: 2019 } },
      { id: 'c', values: [0.9, 0.1, 0], metadata: { category: 'news', year: 2018 } },
    ])
    expect(upserted).toEqual({ data: { upserted: 3 }, error: null })

    const fetched = await reader.fetch(['b'])
    expect(fetched.data).toEqual([
      { id: 'b', values: [0, 1, 0], metadata: { category: 'blog', year: 2019 } },
    ])

    const { data: matches } = await reader.query({
      vector: [1, 0, 0],
      topK: 5,
      filter: { category: 'news', year: { $gte: 2020 }, 'author.name': { $in: ['ana'] } },
    })
    expect(matches).toEqual([
      { id: 'a', distance: 0, metadata: { category: 'news', year: 2024, author: { name: 'ana' } } },
    ])
    const year: number | undefined = matches?.[0]?.metadata?.year
    expect(year).toBe(2024)

    const byId = await reader.query({ id: 'c', topK: 2, includeMetadata: false })
    expect(byId.data?.map((m) => m.id)).toEqual(['c', 'a'])

    const explained = await admin.explain({ vector: [1, 0, 0], topK: 1, scan: 'index' })
    expect(explained.data).toMatchObject({ matches: [{ id: 'a' }], scan: 'index' })
    expect(explained.data?.plan?.join('\n')).toContain('Index Scan using t_sdk_embedding_idx')
    expect((await reader.explain({ vector: [1, 0, 0] })).error).toMatchObject({ status: 403 })

    expect((await reader.describe()).data).toEqual({
      name: 't_sdk',
      dimensions: 3,
      type: 'vector',
      metric: 'l2',
      index: 'hnsw',
      count: 3,
    })
    expect((await admin.delete({ filter: { category: 'blog' } })).data).toEqual({ deleted: 1 })
    expect((await admin.delete({ ids: ['a', 'c'] })).data).toEqual({ deleted: 2 })
  })

  it('returns errors, never throws', async () => {
    const invalid = await reader.query({ vector: [1, 0, 0], topK: 0 })
    expect(invalid.error).toBeInstanceOf(MatchboxValidationError)
    expect(invalid.error?.message).toBe('topK: expected at least 1')

    const wrongSize = await admin.upsert([{ id: 'x', values: [1, 2] }])
    expect(wrongSize.error).toBeInstanceOf(MatchboxHttpError)
    expect(wrongSize.error).toMatchObject({ status: 400, code: 'dimension_mismatch' })

    const anonWrite = await reader.upsert([{ id: 'x', values: [1, 2, 3] }])
    expect(anonWrite.error).toMatchObject({ status: 403, code: 'forbidden' })

    const missing = await createMatchboxClient({ url: stack.apiUrl, key: stack.anonKey })
      .collection('nope')
      .describe()
    expect(missing.error).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'collection "nope" not found',
    })
  })

  it('types filters by the metadata type', () => {
    // Compile-time checks: tsc runs over the tests.
    type Query = Parameters<typeof reader.query>[0]
    const wrongType: Query = {
      vector: [1, 0, 0],
      // @ts-expect-error year is a number
      filter: { year: 'recent' },
    }
    const wrongField: Query = {
      vector: [1, 0, 0],
      // @ts-expect-error no such field
      filter: { color: 'red' },
    }
    expect([wrongType, wrongField]).toHaveLength(2)
  })
})
