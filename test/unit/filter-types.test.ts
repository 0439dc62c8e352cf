import { describe, expect, it } from 'vitest'
import type { Filter } from '../../src/filter.ts'

interface Doc {
  category: string
  year: number
  tags: string[]
  author: { name: string }
}

describe('Filter<M>: the types agree with what the server accepts', () => {
  it('takes array operators on array fields and scalar operators on scalar fields', () => {
    const accepted: Filter<Doc>[] = [
      { tags: ['a', 'b'] },
      { tags: { $contains: 'a' } },
      { tags: { $contains: ['a', 'b'] } },
      { tags: { $in: ['a'] }, category: { $nin: ['x'] } },
      { year: { $gte: 2020 }, 'author.name': 'ann' },
      { $or: [{ tags: { $eq: ['a'] } }, { category: 'news' }] },
    ]
    const refused: Filter<Doc>[] = [
      // @ts-expect-error an array field takes no range
      { tags: { $gt: 'a' } },
      // @ts-expect-error $contains is for array fields
      { category: { $contains: 'a' } },
      // @ts-expect-error an array field's $in lists elements, not arrays
      { tags: { $in: [['a']] } },
      // @ts-expect-error a bare scalar is not an array field's value
      { tags: 'a' },
      // @ts-expect-error year is a number
      { year: 'recent' },
    ]
    expect(accepted.length + refused.length).toBe(11)
  })
})
