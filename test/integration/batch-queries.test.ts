/**
 * Batch searches: `vectors/<c>/query` with `{"queries":[…]}` and `match-items` with
 * `{"embeddings":[…]}` answer each query as it would be answered alone, in order, in one
 * request; one bad query refuses the whole batch, naming its index.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, stack } from '../support/http.ts'
import { createCollection, denseVector, dropCollection, seeded } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_batch'
const random = seeded(7)

beforeAll(async () => {
  await createCollection(sql, { name: NAME, dimensions: 8 })
  const records = Array.from({ length: 300 }, (_, i) => ({
    id: `r${i}`,
    values: denseVector(random, 8),
    metadata: { group: i % 10, tags: i % 2 ? ['odd'] : ['even'] },
  }))
  const answer = await post(`vectors/${NAME}/upsert`, { records }, { key: stack.serviceRoleKey })
  expect(answer.status).toBe(200)
})
afterAll(async () => {
  await dropCollection(sql, NAME)
  await sql.end()
})

describe('vectors query batches', () => {
  it('answers each query as it is answered alone, in order', async () => {
    const queries = [
      { vector: denseVector(random, 8), topK: 5 },
      { vector: denseVector(random, 8), topK: 3, filter: { group: 3 } },
      { id: 'r7', topK: 4, filter: { tags: { $contains: 'odd' } } },
      { vector: denseVector(random, 8), topK: 2, scan: 'exact' as const },
    ]
    const batch = await post(`vectors/${NAME}/query`, { queries })
    expect(batch.status, JSON.stringify(batch.body)).toBe(200)
    const alone = await Promise.all(queries.map((q) => post(`vectors/${NAME}/query`, q)))
    expect(batch.body).toEqual({ results: alone.map((answer) => answer.body) })
    expect(batch.body.results.map((r: { matches: unknown[] }) => r.matches.length)).toEqual([
      5, 3, 4, 2,
    ])
  })

  it('runs every query of a batch inside the transaction, with its own settings', async () => {
    // scan: 'index' turns the other scans off for the query's statement: were the statement
    // sent after the commit (outside the transaction), the planner would sort a scan instead.
    const queries = [0, 1].map(() => ({
      vector: denseVector(random, 8),
      topK: 3,
      filter: { group: 3 },
      scan: 'index' as const,
      explain: true,
    }))
    const batch = await post(`vectors/${NAME}/query`, { queries }, { key: stack.serviceRoleKey })
    expect(batch.status, JSON.stringify(batch.body)).toBe(200)
    for (const result of batch.body.results) {
      expect(result.scan).toBe('index')
      expect(result.plan.join('\n')).toContain(`Index Scan using ${NAME}_embedding_idx`)
    }
  })

  it('refuses the whole batch for one bad query, naming its index', async () => {
    const bad = await post(`vectors/${NAME}/query`, {
      queries: [{ vector: denseVector(random, 8) }, { vector: [1, 2] }],
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toBe('queries.1.vector: expected 8 dimensions, not 2')
    const schema = await post(`vectors/${NAME}/query`, {
      queries: [{ vector: denseVector(random, 8) }, { vector: denseVector(random, 8), topK: 0 }],
    })
    expect(schema.status).toBe(400)
    expect(schema.body.error.message).toMatch(/^queries\.1\.topK: /)
    const missing = await post(`vectors/${NAME}/query`, {
      queries: [{ vector: denseVector(random, 8) }, { id: 'nope' }],
    })
    expect(missing.status).toBe(404)
    expect(missing.body.error.message).toBe(`queries.1.record "nope" not found in "${NAME}"`)
  })

  it('bounds a batch at 100 queries and refuses an empty one', async () => {
    const many = Array.from({ length: 101 }, () => ({ vector: denseVector(random, 8) }))
    const tooMany = await post(`vectors/${NAME}/query`, { queries: many })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error.message).toBe('queries: expected at most 100 queries')
    const empty = await post(`vectors/${NAME}/query`, { queries: [] })
    expect(empty.body.error.message).toBe('queries: expected at least 1 query')
  })
})

describe('match-items batches', () => {
  it('answers each embedding as match-items answers it alone, in order', async () => {
    const embeddings = [
      [3, 1, 2],
      [1, 1, 1],
      [2, 3, 1],
    ]
    const batch = await post('match-items', { embeddings, count: 4 })
    expect(batch.status, JSON.stringify(batch.body)).toBe(200)
    const alone = await Promise.all(
      embeddings.map((embedding) => post('match-items', { embedding, count: 4 })),
    )
    expect(batch.body).toEqual({ results: alone.map((answer) => answer.body) })
  })

  it('refuses a batch with one misfit, naming its index', async () => {
    const bad = await post('match-items', {
      embeddings: [
        [3, 1, 2],
        [1, 2],
      ],
      count: 4,
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toEqual({
      code: 'dimension_mismatch',
      message: 'expected 3 dimensions, not 2',
    })
    const nonNumber = await post('match-items', {
      embeddings: [
        [3, 1, 2],
        [1, 'x', 3],
      ],
    })
    expect(nonNumber.status).toBe(400)
    expect(nonNumber.body.error.message).toMatch(/^embeddings\.1\.1: /)
  })
})
