/**
 * Filtered search through the vectors function: k rows whenever k rows match, the filter
 * language's semantics against a plain evaluation, and its errors.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, stack } from '../support/http.ts'
import {
  createCollection,
  denseVector,
  distance,
  seeded,
  dropCollection,
} from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_filtered'
const ROWS = 3000
const random = seeded(7)

interface Row {
  id: string
  values: number[]
  metadata: { group: number; year: number; tag: string; nested: { level: number }; draft?: boolean }
}
const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({
  id: `doc-${i}`,
  values: denseVector(random, 8),
  metadata: {
    group: i % 100,
    year: 2000 + (i % 25),
    tag: i % 2 ? 'odd' : 'even',
    nested: { level: i % 3 },
    ...(i % 10 === 0 ? { draft: true } : {}),
  },
}))

beforeAll(async () => {
  await createCollection(sql, { name: NAME, dimensions: 8 })
  for (let start = 0; start < ROWS; start += 1000) {
    const records = rows.slice(start, start + 1000)
    const { status } = await post(
      `vectors/${NAME}/upsert`,
      { records },
      { key: stack.serviceRoleKey },
    )
    expect(status).toBe(200)
  }
}, 120_000)
afterAll(async () => {
  await dropCollection(sql, NAME)
  await sql.end()
})

const query = denseVector(seeded(99), 8)

function exactTop(k: number, keep: (row: Row) => boolean): string[] {
  return rows
    .filter(keep)
    .map((row) => ({ id: row.id, d: distance('cosine', query, row.values) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((row) => row.id)
}

describe('a filter that matches 1% of rows', () => {
  const filter = { group: 7 }
  const matching = (row: Row) => row.metadata.group === 7

  it('returns exactly k rows, all matching, through the iterative index scan', async () => {
    const started = performance.now()
    const { status, body } = await post(`vectors/${NAME}/query`, {
      vector: query,
      topK: 10,
      filter,
      scan: 'index',
    })
    const ms = performance.now() - started
    expect(status).toBe(200)
    expect(body.matches).toHaveLength(10)
    for (const match of body.matches) expect(match.metadata.group).toBe(7)
    console.log(
      `filtered query (1% match, iterative index scan): ${body.matches.length} rows in ${ms.toFixed(1)} ms`,
    )
  })

  it('returns the exact top k by default (few rows match: an exact scan)', async () => {
    const started = performance.now()
    const { body } = await post(`vectors/${NAME}/query`, { vector: query, topK: 10, filter })
    const ms = performance.now() - started
    expect(body.matches.map((m: { id: string }) => m.id)).toEqual(exactTop(10, matching))
    console.log(
      `filtered query (1% match, auto): ${body.matches.length} rows in ${ms.toFixed(1)} ms`,
    )
  })

  it('would return fewer rows without iterative scans (plain pgvector)', async () => {
    const returned = await sql.begin(async (tx) => {
      await tx`set local hnsw.iterative_scan = off`
      await tx`set local hnsw.ef_search = 40`
      // The HNSW index, not the GIN index on metadata: the plan a large table would get.
      await tx`set local enable_seqscan = off`
      await tx`set local enable_bitmapscan = off`
      return tx.unsafe(
        `select id from public.${NAME}
         where metadata @> '{"group":7}'
         order by embedding operator(extensions.<=>) $1::text::extensions.vector limit 10`,
        [`[${query.join(',')}]`],
      )
    })
    console.log(
      `filtered query (1% match, no iterative scan, ef_search 40): ${returned.length} rows`,
    )
    expect(returned.length).toBeLessThan(10)
  })

  it('fills in with an exact scan when the index walk comes back short', async () => {
    // efSearch 1 and a filter matching 3 of 3000 rows: the index walk is all but sure to fall short.
    const { body } = await post(`vectors/${NAME}/query`, {
      vector: query,
      topK: 3,
      filter: { group: 7, year: 2007 },
      efSearch: 1,
    })
    expect(body.matches.map((m: { id: string }) => m.id)).toEqual(
      exactTop(3, (row) => row.metadata.group === 7 && row.metadata.year === 2007),
    )
  })
})

describe('the filter language', () => {
  const cases: [string, Record<string, unknown>, (row: Row) => boolean][] = [
    ['$eq (implicit)', { tag: 'odd' }, (r) => r.metadata.tag === 'odd'],
    ['$eq', { year: { $eq: 2003 } }, (r) => r.metadata.year === 2003],
    ['$ne', { tag: { $ne: 'odd' } }, (r) => r.metadata.tag !== 'odd'],
    ['$gt', { year: { $gt: 2020 } }, (r) => r.metadata.year > 2020],
    [
      '$gte and $lt',
      { year: { $gte: 2010, $lt: 2012 } },
      (r) => r.metadata.year >= 2010 && r.metadata.year < 2012,
    ],
    ['$lte', { group: { $lte: 2 } }, (r) => r.metadata.group <= 2],
    ['$in', { group: { $in: [1, 2, 3] } }, (r) => [1, 2, 3].includes(r.metadata.group)],
    [
      '$nin',
      { year: { $nin: [2000, 2001] }, group: { $lt: 5 } },
      (r) => ![2000, 2001].includes(r.metadata.year) && r.metadata.group < 5,
    ],
    [
      '$exists true',
      { draft: { $exists: true }, group: { $lt: 30 } },
      (r) => r.metadata.draft !== undefined && r.metadata.group < 30,
    ],
    [
      '$exists false',
      { draft: { $exists: false }, group: 11 },
      (r) => r.metadata.draft === undefined && r.metadata.group === 11,
    ],
    [
      'nested key',
      { 'nested.level': 2, group: { $lt: 10 } },
      (r) => r.metadata.nested.level === 2 && r.metadata.group < 10,
    ],
    [
      '$or of $and',
      { $or: [{ $and: [{ group: 1 }, { tag: 'odd' }] }, { group: { $in: [2, 4] } }] },
      (r) =>
        (r.metadata.group === 1 && r.metadata.tag === 'odd') || [2, 4].includes(r.metadata.group),
    ],
    [
      'a string range',
      { tag: { $gt: 'even' }, group: 5 },
      (r) => r.metadata.tag > 'even' && r.metadata.group === 5,
    ],
    ['no match', { tag: 'none' }, () => false],
  ]

  it.each(cases)('%s selects what a plain evaluation selects', async (_, filter, keep) => {
    const expected = rows
      .filter(keep)
      .map((r) => r.id)
      .sort()
    const { status, body } = await post(`vectors/${NAME}/query`, {
      vector: query,
      topK: 1000,
      filter,
      includeMetadata: false,
      scan: 'exact',
    })
    expect(status).toBe(200)
    expect(body.matches.map((m: { id: string }) => m.id).sort()).toEqual(
      expected.slice(0, 1000).length === expected.length ? expected : expect.anything(),
    )
    expect(body.matches.length).toBe(Math.min(1000, expected.length))
  })

  it.each([
    [{ year: { $gtt: 1 } }, 'filter.year.$gtt: unknown operator "$gtt"'],
    [{ $nor: [{ a: 1 }] }, 'filter.$nor: unknown operator "$nor"'],
    [{ group: { $in: 3 } }, 'filter.group.$in: expected a non-empty array'],
    [{ group: { $gt: true } }, 'filter.group.$gt: expected a number or a string'],
    [{ $or: [] }, 'filter.$or: expected a non-empty array of filters'],
    [
      { $and: [{ group: { $exists: 'yes' } }] },
      'filter.$and.0.group.$exists: expected true or false',
    ],
    [{ 'a..b': 1 }, 'filter.a..b: a field name has an empty segment'],
    [
      { tag: { $eq: [['odd']] } },
      'filter.tag.$eq.0: expected a string, number, boolean or null, not an array',
    ],
    [{}, 'filter: expected at least one condition'],
  ])('refuses %j with a 400 naming the path', async (filter, message) => {
    const { status, body } = await post(`vectors/${NAME}/query`, { vector: query, filter })
    expect(status).toBe(400)
    expect(body.error).toEqual({ code: 'invalid_filter', message })
  })

  it('binds keys and values: SQL in them is only data', async () => {
    const hostile = "x'); drop table public.t_filtered; --"
    const { status, body } = await post(`vectors/${NAME}/query`, {
      vector: query,
      filter: {
        [hostile]: hostile,
        $or: [{ tag: { $in: [hostile, "' or 1=1 --"] } }, { 'a"b': { $gt: "'" } }],
      },
    })
    expect(status).toBe(200)
    expect(body.matches).toEqual([])
    const [row] = await sql`select count(*)::int as n from public.t_filtered`
    expect(row!.n).toBe(ROWS)
  })
})
