/** What the playground makes of typed vectors, and how it reads a plan's index use. */
import { describe, expect, it } from 'vitest'
import { formatVector, parseVector, parseVectors } from '../../playground/web/vectors.ts'
import { indexUse } from '../../playground/web/plan.ts'

describe('parseVectors', () => {
  it('takes one vector or a list of them', () => {
    expect(parseVectors('[1, 2, 3]')).toEqual([[1, 2, 3]])
    expect(parseVectors(' [[1,2,3],[1,1,1]] ')).toEqual([
      [1, 2, 3],
      [1, 1, 1],
    ])
  })

  it('leaves the elements to the SDK, so that its message is the one shown', () => {
    expect(parseVectors('[1, "a", 3]')).toEqual([[1, 'a', 3]])
    expect(parseVectors('[1, 2, 3, 4]')).toEqual([[1, 2, 3, 4]])
  })

  it('says what to type when the shape is wrong', () => {
    expect(() => parseVectors('')).toThrow('enter a vector as JSON, e.g. [1,2,3]')
    expect(() => parseVectors('[1, 2')).toThrow('not JSON: enter a vector such as [1,2,3]')
    expect(() => parseVectors('{"a": 1}')).toThrow('expected a vector such as [1,2,3]')
    expect(() => parseVectors('[]')).toThrow('expected a vector such as [1,2,3]')
  })
})

describe('parseVector', () => {
  it('takes exactly one vector', () => {
    expect(parseVector('[3,1,2]')).toEqual([3, 1, 2])
    expect(() => parseVector('[[3,1,2]]')).toThrow('expected one vector such as [3,1,2]')
    expect(() => parseVector('3')).toThrow('expected one vector such as [3,1,2]')
  })
})

describe('formatVector', () => {
  it('writes JSON as pgvector does', () => {
    expect(formatVector([3, 1, 2])).toBe('[3,1,2]')
    expect(formatVector([0.5, -1e-7])).toBe('[0.5,-1e-7]')
  })
})

describe('indexUse', () => {
  const hnsw = 'items_embedding_hnsw_idx'

  it('says yes when the plan scans the vector index', () => {
    const plan = [
      'Limit  (cost=7.67..7.91 rows=4 width=48)',
      '  ->  Index Scan using items_embedding_hnsw_idx on items  (cost=7.67..73.40 rows=1070 width=48)',
      "        Order By: (embedding OPERATOR(extensions.<=>) '[3,1,2]'::extensions.vector)",
    ]
    expect(indexUse(plan, hnsw)).toEqual({ indexUsed: true, index: hnsw })
  })

  it('says no for a sequential scan, or a scan of another index', () => {
    expect(
      indexUse(['Limit', '  ->  Sort', '        ->  Seq Scan on items  (cost=0.00..1.28)'], hnsw),
    ).toEqual({ indexUsed: false, index: null })
    expect(indexUse(['Limit', '  ->  Index Scan using items_pkey on items'], hnsw)).toEqual({
      indexUsed: false,
      index: 'items_pkey',
    })
    expect(indexUse(['  ->  Index Scan using items_embedding_hnsw_idx on items'], null)).toEqual({
      indexUsed: false,
      index: 'items_embedding_hnsw_idx',
    })
  })
})
