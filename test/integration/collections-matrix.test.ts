/**
 * Every type x metric x index pgvector supports, through the vectors function: with
 * efSearch/probes covering the collection, results equal a brute-force exact ranking.
 */
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import {
  INDEX_METHODS,
  type Metric,
  SUPPORTED,
  VECTOR_TYPES,
  type VectorType,
} from '../../supabase/functions/_shared/vector-kinds.ts'
import { post, stack } from '../support/http.ts'
import {
  bitString,
  createCollection,
  denseVector,
  distance,
  seeded,
  sparseVector,
  dropCollection,
} from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
afterAll(() => sql.end())

const ROWS = 120
const TOP_K = 10
const DIMENSIONS: Record<VectorType, number> = { vector: 8, halfvec: 8, bit: 24, sparsevec: 20 }
const LISTS = 4

const combinations = INDEX_METHODS.flatMap((index) =>
  VECTOR_TYPES.flatMap((type) => SUPPORTED[index][type].map((metric) => ({ index, type, metric }))),
)

/** Values as the API takes them, and as the brute force compares them. */
function makeValues(
  type: VectorType,
  random: () => number,
): { api: unknown; plain: number[] | string } {
  const dimensions = DIMENSIONS[type]
  if (type === 'bit') {
    const bits = bitString(random, dimensions)
    return { api: bits, plain: bits }
  }
  if (type === 'sparsevec') {
    const { sparse, dense } = sparseVector(random, dimensions)
    return { api: sparse, plain: dense }
  }
  const dense = denseVector(random, dimensions)
  return { api: dense, plain: dense }
}

describe('type x metric x index', () => {
  it('covers all 21 combinations pgvector indexes', () => {
    expect(combinations).toHaveLength(21)
  })

  it.each(combinations)(
    '$type / $metric / $index equals brute force',
    async ({ index, type, metric }) => {
      const name = `t_${type}_${metric}_${index}`
      await createCollection(sql, {
        name,
        dimensions: DIMENSIONS[type],
        type,
        metric: metric as Metric,
        index,
        lists: index === 'ivfflat' ? LISTS : undefined,
      })
      const random = seeded(42)
      const stored = Array.from({ length: ROWS }, (_, i) => ({
        id: `r${i}`,
        ...makeValues(type, random),
      }))
      const upsert = await post(
        `vectors/${name}/upsert`,
        {
          records: stored.map((r) => ({
            id: r.id,
            values: r.api,
            metadata: { i: Number(r.id.slice(1)) },
          })),
        },
        { key: stack.serviceRoleKey },
      )
      expect(upsert).toMatchObject({ status: 200, body: { upserted: ROWS } })

      for (let q = 0; q < 3; q++) {
        const query = makeValues(type, random)
        const tuning = index === 'hnsw' ? { efSearch: ROWS } : { probes: LISTS }
        const { status, body } = await post(`vectors/${name}/query`, {
          vector: query.api,
          topK: TOP_K,
          includeValues: true,
          scan: 'index',
          ...tuning,
        })
        expect(status).toBe(200)
        const expected = stored
          .map((r) => distance(metric as Metric, query.plain, r.plain))
          .sort((a, b) => a - b)
          .slice(0, TOP_K)
        const actual = body.matches.map((m: { distance: number }) => m.distance)
        expect(actual).toHaveLength(TOP_K)
        actual.forEach((d: number, i: number) => expect(d).toBeCloseTo(expected[i]!, 6))
        // Each answer's distance is its own record's true distance, and its values round-trip.
        for (const match of body.matches) {
          const record = stored.find((r) => r.id === match.id)!
          expect(match.distance).toBeCloseTo(
            distance(metric as Metric, query.plain, record.plain),
            6,
          )
          expect(match.values).toEqual(record.api)
        }
      }

      const description = await fetch(`${stack.apiUrl}/functions/v1/vectors/${name}/describe`, {
        headers: { apikey: stack.anonKey },
      })
      expect(await description.json()).toEqual({
        name,
        dimensions: DIMENSIONS[type],
        type,
        metric,
        index,
        access: 'public',
        fields: [],
        // From the statistics, which may lag a moment behind the inserts: a number, not a count.
        estimatedCount: expect.any(Number),
      })
      await dropCollection(sql, name)
    },
  )
})
