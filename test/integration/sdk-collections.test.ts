/** The SDK's collection client against the real vectors function. */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMatchboxClient,
  MatchboxHttpError,
  MatchboxValidationError,
} from '../../src/index.ts'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { parseCollectionSpec } from '../../cli/collections/spec.ts'
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
    expect(fetched.data).toEqual({
      records: [{ id: 'b', values: [0, 1, 0], metadata: { category: 'blog', year: 2019 } }],
    })

    const { data: found } = await reader.query({
      vector: [1, 0, 0],
      topK: 5,
      filter: { category: 'news', year: { $gte: 2020 }, 'author.name': { $in: ['ana'] } },
    })
    expect(found).toEqual({
      matches: [
        {
          id: 'a',
          distance: 0,
          metadata: { category: 'news', year: 2024, author: { name: 'ana' } },
        },
      ],
    })
    const year: number | undefined = found?.matches[0]?.metadata?.year
    expect(year).toBe(2024)

    const byId = await reader.query({ id: 'c', topK: 2, includeMetadata: false })
    expect(byId.data?.matches.map((m) => m.id)).toEqual(['c', 'a'])

    const explained = await admin.explain({ vector: [1, 0, 0], topK: 1, scan: 'index' })
    expect(explained.data).toMatchObject({ matches: [{ id: 'a' }], scan: 'index' })
    expect(explained.data?.plan?.join('\n')).toContain('Index Scan using t_sdk_embedding_idx')
    expect((await reader.explain({ vector: [1, 0, 0] })).error).toMatchObject({ status: 403 })

    expect((await reader.describe()).data).toMatchObject({
      name: 't_sdk',
      dimensions: 3,
      type: 'vector',
      metric: 'l2',
      index: 'hnsw',
    })
    expect((await admin.delete({ filter: { category: 'blog' } })).data).toEqual({ deleted: 1 })
    expect((await admin.delete({ ids: ['a', 'c'] })).data).toEqual({ deleted: 2 })
  })

  it('lists ids a page at a time, iterates over all of them, counts and patches metadata', async () => {
    const records = Array.from({ length: 7 }, (_, i) => ({
      id: `doc-${i}`,
      values: [1, i, 0],
      metadata: { category: i % 2 ? 'news' : 'blog', year: 2020 + i },
    }))
    expect((await admin.upsert(records)).error).toBeNull()

    const first = await reader.list({ limit: 3, prefix: 'doc-' })
    expect(first.error).toBeNull()
    expect(first.data!.ids).toEqual(['doc-0', 'doc-1', 'doc-2'])
    expect(first.data!.nextCursor).toEqual(expect.any(String))
    const second = await reader.list({ limit: 3, prefix: 'doc-', cursor: first.data!.nextCursor })
    expect(second.data!.ids).toEqual(['doc-3', 'doc-4', 'doc-5'])

    const all: string[] = []
    for await (const id of reader.ids({ pageSize: 2 })) all.push(id)
    expect(all).toEqual(records.map((r) => r.id))
    const news: string[] = []
    for await (const id of reader.ids({ filter: { category: 'news' } })) news.push(id)
    expect(news).toEqual(['doc-1', 'doc-3', 'doc-5'])

    expect((await reader.count()).data).toEqual({ count: 7 })
    expect((await reader.count({ filter: { year: { $gte: 2025 } } })).data).toEqual({ count: 2 })

    expect(
      (await admin.update({ filter: { category: 'blog' }, metadata: { year: 1999 } })).data,
    ).toEqual({ updated: 4 })
    expect((await admin.update({ id: 'doc-1', metadata: { category: 'blog' } })).data).toEqual({
      updated: 1,
    })
    const patched = await reader.fetch(['doc-0', 'doc-1'])
    expect(patched.data!.records.map((r) => r.metadata)).toEqual([
      { category: 'blog', year: 1999 },
      { category: 'blog', year: 2021 },
    ])

    // A refused page surfaces as the iterator's throw: there is no { data, error } to give it.
    const refused = reader.ids({ pageSize: 0 })
    await expect(refused.next()).rejects.toBeInstanceOf(MatchboxValidationError)
    expect((await admin.delete({ filter: { year: { $gte: 0 } } })).error).toBeNull()
  })

  it('runs a batch of queries, and keyword and hybrid queries in a text collection', async () => {
    await admin.upsert([
      { id: 'p', values: [1, 0, 0], metadata: { category: 'news', year: 2024 } },
      { id: 'q', values: [0, 1, 0], metadata: { category: 'blog', year: 2020 } },
    ])
    const batch = await reader.queryMany([
      { vector: [1, 0, 0], topK: 1 },
      { id: 'q', topK: 1, includeMetadata: false },
    ])
    expect(batch.data).toEqual({
      results: [
        { matches: [{ id: 'p', distance: 0, metadata: { category: 'news', year: 2024 } }] },
        { matches: [{ id: 'q', distance: 0 }] },
      ],
    })
    await admin.delete({ ids: ['p', 'q'] })

    const spec = parseCollectionSpec({ name: 't_sdk_text', dimensions: 3, text: true })
    await dropCollection(sql, spec.name)
    await sql.unsafe(collectionMigrationSql(spec))
    try {
      const client = createMatchboxClient({ url: stack.apiUrl, key: stack.serviceRoleKey })
      const notes = client.collection<{ lang: string }>('t_sdk_text')
      await notes.upsert([
        {
          id: 'a',
          values: [1, 0, 0],
          text: 'pgvector indexes with hnsw',
          metadata: { lang: 'en' },
        },
        {
          id: 'b',
          values: [0, 1, 0],
          text: 'full text search in postgres',
          metadata: { lang: 'en' },
        },
      ])
      const keyword = await notes.query({ text: 'postgres search', topK: 2 })
      expect(keyword.error).toBeNull()
      expect(keyword.data!.matches.map((m) => m.id)).toEqual(['b'])
      expect(keyword.data!.matches[0]!.ranks).toEqual({ text: 1, vector: null })
      const hybrid = await notes.query({ text: 'postgres', vector: [1, 0, 0], topK: 2 })
      expect(hybrid.data!.matches.map((m) => m.id).sort()).toEqual(['a', 'b'])
      expect(hybrid.data!.matches.every((m) => typeof m.score === 'number')).toBe(true)
      const fetched = await notes.fetch(['a'], { includeText: true })
      expect(fetched.data!.records[0]!.text).toBe('pgvector indexes with hnsw')
    } finally {
      await dropCollection(sql, spec.name)
    }
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
