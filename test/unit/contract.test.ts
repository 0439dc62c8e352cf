import { describe, expect, it } from 'vitest'
import { z, type ZodError } from 'zod'
import {
  describeIssue,
  FLOAT4_MAX,
  InsertItemsRequest,
  MAX_INSERT_BATCH,
  MAX_MATCH_COUNT,
  MatchItemsRequest,
} from '../../supabase/functions/_shared/contract.ts'

function issueOf(
  schema: { safeParse(v: unknown): { success: boolean; error?: ZodError } },
  value: unknown,
) {
  const result = schema.safeParse(value)
  expect(result.success).toBe(false)
  return describeIssue(result.error!)
}

describe('MatchItemsRequest', () => {
  it('takes the tutorial query and defaults count to 10', () => {
    expect(MatchItemsRequest.parse({ embedding: [3, 1, 2], count: 4 })).toEqual({
      embedding: [3, 1, 2],
      count: 4,
    })
    expect(MatchItemsRequest.parse({ embedding: [3, 1, 2] }).count).toBe(10)
  })

  it('names the path of the offending value', () => {
    expect(issueOf(MatchItemsRequest, { embedding: [3, '1', 2], count: 4 })).toBe(
      'embedding.1: expected a finite number',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], count: 0 })).toBe(
      'count: expected at least 1',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], count: MAX_MATCH_COUNT + 1 })).toBe(
      'count: expected at most 200',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], count: 1.5 })).toBe(
      'count: expected an integer',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [] })).toBe(
      'embedding: expected at least 1 dimension',
    )
  })

  it("takes an optional efSearch within pgvector's range, 1 to 1000", () => {
    expect(MatchItemsRequest.parse({ embedding: [3, 1, 2], efSearch: 100 }).efSearch).toBe(100)
    expect(MatchItemsRequest.parse({ embedding: [3, 1, 2] }).efSearch).toBeUndefined()
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], efSearch: 0 })).toBe(
      'efSearch: expected at least 1',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], efSearch: 1001 })).toBe(
      'efSearch: expected at most 1000',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], efSearch: 40.5 })).toBe(
      'efSearch: expected an integer',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [3, 1, 2], efSearch: '40' })).toBe(
      'efSearch: expected an integer',
    )
  })

  it('refuses numbers a float4 vector cannot hold, and JSON overflow to Infinity', () => {
    expect(issueOf(MatchItemsRequest, { embedding: [FLOAT4_MAX * 2, 1, 2] })).toBe(
      'embedding.0: out of range for a float4 vector element',
    )
    expect(issueOf(MatchItemsRequest, JSON.parse('{"embedding":[1e400,1,2]}'))).toMatch(
      /^embedding\.0: /,
    )
    expect(issueOf(MatchItemsRequest, { embedding: [Number.NaN, 1, 2] })).toMatch(/^embedding\.0: /)
  })

  it('refuses unknown keys, including __proto__', () => {
    expect(issueOf(MatchItemsRequest, { embedding: [1, 2, 3], k: 4 })).toBe('body: unknown key "k"')
    expect(
      issueOf(MatchItemsRequest, JSON.parse('{"embedding":[1,2,3],"__proto__":{"x":1}}')),
    ).toBe('body: unknown key "__proto__"')
  })
})

describe('InsertItemsRequest', () => {
  it('takes a batch of embeddings', () => {
    expect(InsertItemsRequest.parse({ items: [{ embedding: [1, 2, 3] }] }).items).toHaveLength(1)
  })

  it('refuses an empty or oversized batch', () => {
    expect(issueOf(InsertItemsRequest, { items: [] })).toBe('items: expected at least 1 item')
    const many = Array.from({ length: MAX_INSERT_BATCH + 1 }, () => ({ embedding: [1, 2, 3] }))
    expect(issueOf(InsertItemsRequest, { items: many })).toBe('items: expected at most 1000 items')
  })

  it('names the item and element at fault', () => {
    expect(
      issueOf(InsertItemsRequest, {
        items: [{ embedding: [1, 2, 3] }, { embedding: [1, null, 3] }],
      }),
    ).toBe('items.1.embedding.1: expected a finite number')
    expect(issueOf(InsertItemsRequest, { items: [{ vector: [1, 2, 3] }] })).toBe(
      'items.0: unknown key "vector"',
    )
  })
})

describe('describeIssue', () => {
  it('names an unknown key as unknown, not the key it stands for as missing', () => {
    expect(issueOf(InsertItemsRequest, { items: [{ embeddings: [1, 2, 3] }] })).toBe(
      'items.0: unknown key "embeddings"',
    )
    expect(issueOf(MatchItemsRequest, { embedding: [1, 2, 3], k: 4, n: 1 })).toBe(
      'body: unknown keys "k", "n"',
    )
  })

  it("says where and what in Matchbox's words, never zod's default message", () => {
    expect(issueOf(InsertItemsRequest, [[1, 2, 3]])).toBe(
      'body: expected a JSON object, not an array',
    )
    expect(issueOf(MatchItemsRequest, null)).toBe('body: expected a JSON object, not null')
    expect(issueOf(MatchItemsRequest, 'x')).toBe('body: expected a JSON object, not a string')
    expect(issueOf(InsertItemsRequest, {})).toBe('items: missing: expected an array')
    expect(issueOf(InsertItemsRequest, { items: {} })).toBe(
      'items: expected an array, not a JSON object',
    )
    expect(issueOf(MatchItemsRequest, {})).toBe('embedding: expected an array of numbers')
  })

  it('rewords every kind of zod default, with its bound or its options', () => {
    const schema = z.strictObject({
      scan: z.enum(['auto', 'index', 'exact']).optional(),
      name: z.string().max(2).optional(),
      tags: z.array(z.string()).min(1).optional(),
      either: z.union([z.string(), z.number()]).optional(),
      flag: z.boolean().optional(),
    })
    const cases: [unknown, string][] = [
      [{ scan: 'fast' }, 'scan: expected "auto", "index" or "exact"'],
      [{ name: 'abc' }, 'name: expected at most 2 characters'],
      [{ tags: [] }, 'tags: expected at least 1 element'],
      [{ either: true }, 'either: matches none of the accepted forms'],
      [{ flag: 'yes' }, 'flag: expected true or false, not a string'],
      [{ tags: [1] }, 'tags.0: expected a string, not a number'],
    ]
    for (const [value, message] of cases) {
      const text = issueOf(schema, value)
      expect(text).toBe(message)
      expect(text).not.toMatch(/Invalid|Too (big|small)|Unrecognized/)
    }
  })
})
