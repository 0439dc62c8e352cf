/** What the playground makes of a collection's values: typed in, drawn, and shown. */
import { describe, expect, it } from 'vitest'
import {
  formatMetadata,
  formatValues,
  MAX_DENSE_DIMENSIONS,
  parseJsonObject,
  parseRecordValues,
  parseValues,
  recordIds,
  toNumbers,
} from '../../playground/web/values.ts'
import { fromVectorText } from '../../supabase/functions/_shared/vector-values.ts'

describe('toNumbers', () => {
  it('keeps vector and halfvec values as they are', () => {
    expect(toNumbers([3, 1, 2])).toEqual([3, 1, 2])
    expect(toNumbers([0.5, -1e-7, 65504])).toEqual([0.5, -1e-7, 65504])
  })

  it('turns bits, as a string or as booleans, into 0 and 1', () => {
    expect(toNumbers('0101')).toEqual([0, 1, 0, 1])
    expect(toNumbers([true, false, true])).toEqual([1, 0, 1])
    expect(() => toNumbers('01x1')).toThrow('expected bits, found "x"')
  })

  it('writes a sparse vector out densely, by its 0-based indices', () => {
    expect(toNumbers({ indices: [1, 4], values: [0.5, -2], dimensions: 5 })).toEqual([
      0, 0.5, 0, 0, -2,
    ])
    expect(toNumbers({ indices: [], values: [], dimensions: 3 })).toEqual([0, 0, 0])
  })

  it('agrees with what the function answers for the stored text', () => {
    // pgvector's text counts from 1; the API and the scatter from 0.
    expect(toNumbers(fromVectorText('sparsevec', '{2:0.5,5:-2}/5'))).toEqual([0, 0.5, 0, 0, -2])
    expect(toNumbers(fromVectorText('bit', '0110'))).toEqual([0, 1, 1, 0])
    expect(toNumbers(fromVectorText('halfvec', '[1.5,-2,0]'))).toEqual([1.5, -2, 0])
  })

  it(`refuses sparse vectors wider than ${MAX_DENSE_DIMENSIONS} dimensions`, () => {
    const wide = { indices: [0], values: [1], dimensions: MAX_DENSE_DIMENSIONS + 1 }
    expect(() => toNumbers(wide)).toThrow(
      `4097 dimensions: the scatter draws sparse vectors of at most 4096`,
    )
    expect(toNumbers({ ...wide, dimensions: MAX_DENSE_DIMENSIONS })).toHaveLength(4096)
  })

  it('refuses what is no vector', () => {
    expect(() => toNumbers(['a'] as never)).toThrow('expected numbers or booleans')
  })
})

describe('parseValues', () => {
  it('reads one vector in the form of the type', () => {
    expect(parseValues('[3, 1, 2]', 'vector')).toEqual([3, 1, 2])
    expect(parseValues('[3, 1, 2]', 'halfvec')).toEqual([3, 1, 2])
    expect(parseValues('{"indices":[0],"values":[1],"dimensions":8}', 'sparsevec')).toEqual({
      indices: [0],
      values: [1],
      dimensions: 8,
    })
  })

  it('takes bits bare, as a JSON string, or as booleans', () => {
    // Bare, "1011" would be JSON's number 1011, and "0101" no JSON at all.
    expect(parseValues(' 1011 ', 'bit')).toBe('1011')
    expect(parseValues('0101', 'bit')).toBe('0101')
    expect(parseValues('"0101"', 'bit')).toBe('0101')
    expect(parseValues('[false, true]', 'bit')).toEqual([false, true])
  })

  it('leaves the elements to the SDK, so that its message is the one shown', () => {
    expect(parseValues('[1, "a"]', 'vector')).toEqual([1, 'a'])
    expect(parseValues('"01x"', 'bit')).toBe('01x')
  })

  it('says what to type when the shape is wrong', () => {
    expect(() => parseValues('', 'vector')).toThrow('enter a vector as JSON, e.g. [3,1,2]')
    expect(() => parseValues('[1,', 'vector')).toThrow('not JSON: enter a vector such as [3,1,2]')
    expect(() => parseValues('[[1,2,3]]', 'vector')).toThrow('expected one vector such as [3,1,2]')
    expect(() => parseValues('[1, 0]', 'bit')).toThrow(
      'expected one vector such as 0101 or [false,true,false,true]',
    )
    expect(() => parseValues('[1, 2]', 'sparsevec')).toThrow(
      'expected one vector such as {"indices":[0,7],"values":[0.5,1],"dimensions":8}',
    )
  })
})

describe('parseRecordValues', () => {
  it('takes one vector or a list of them, by type', () => {
    expect(parseRecordValues('[1,2,3]', 'vector')).toEqual([[1, 2, 3]])
    expect(parseRecordValues('[[1,2,3],[1,1,1]]', 'vector')).toEqual([
      [1, 2, 3],
      [1, 1, 1],
    ])
    expect(parseRecordValues('0101', 'bit')).toEqual(['0101'])
    expect(parseRecordValues('["0101", [true, false, true, false]]', 'bit')).toEqual([
      '0101',
      [true, false, true, false],
    ])
    const sparse = { indices: [0], values: [1], dimensions: 4 }
    expect(parseRecordValues(JSON.stringify(sparse), 'sparsevec')).toEqual([sparse])
    expect(parseRecordValues(JSON.stringify([sparse, sparse]), 'sparsevec')).toEqual([
      sparse,
      sparse,
    ])
  })

  it('refuses a list of the wrong things, and an empty one', () => {
    const vectors = 'expected a vector such as [3,1,2], or a list of them'
    expect(() => parseRecordValues('[]', 'vector')).toThrow(vectors)
    expect(() => parseRecordValues('[[1],[[2]]]', 'vector')).toThrow(vectors)
    expect(() => parseRecordValues('[1, 2]', 'sparsevec')).toThrow(
      'expected a vector such as {"indices":[0,7],"values":[0.5,1],"dimensions":8}, or a list of them',
    )
  })
})

describe('parseJsonObject', () => {
  it('reads an object, and nothing from a blank field', () => {
    expect(parseJsonObject('{"year": {"$gte": 2020}}', 'filter')).toEqual({ year: { $gte: 2020 } })
    expect(parseJsonObject('  \n', 'filter')).toBeUndefined()
  })

  it('names the field at fault', () => {
    expect(() => parseJsonObject('{"a":', 'metadata')).toThrow('metadata: not JSON')
    expect(() => parseJsonObject('[1]', 'filter')).toThrow('filter: expected a JSON object')
    expect(() => parseJsonObject('null', 'filter')).toThrow('filter: expected a JSON object')
  })
})

describe('recordIds', () => {
  it('uses the id typed, numbered when there are several records', () => {
    expect(recordIds(' doc ', 1)).toEqual(['doc'])
    expect(recordIds('doc', 2)).toEqual(['doc-1', 'doc-2'])
  })

  it('makes p-<timestamp>-<n> ids when none is typed', () => {
    expect(recordIds('', 2, 1732570000000)).toEqual(['p-1732570000000-1', 'p-1732570000000-2'])
    expect(recordIds('  ', 1)[0]).toMatch(/^p-\d{13}-1$/)
  })
})

describe('formatValues', () => {
  it('shows short vectors whole', () => {
    expect(formatValues([3, 1, 2])).toBe('[3,1,2]')
    expect(formatValues(Array.from({ length: 16 }, (_, i) => i))).toBe(
      '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]',
    )
  })

  it('abbreviates long ones, with their size', () => {
    expect(formatValues(Array.from({ length: 384 }, () => 0.5))).toBe(
      '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,…] (384 dims)',
    )
    expect(formatValues('01'.repeat(40))).toBe(`${'01'.repeat(32)}… (80 bits)`)
    expect(formatValues([true, false, true])).toBe('101')
  })

  it('shows sparse vectors by their non-zero elements, 0-based', () => {
    expect(formatValues({ indices: [0, 7], values: [0.5, 1], dimensions: 30000 })).toBe(
      '{0:0.5,7:1}/30000',
    )
    const many = { indices: [0, 1, 2, 3], values: [1, 2, 3, 4], dimensions: 9 }
    expect(formatValues(many, 2)).toBe('{0:1,1:2,…}/9')
  })
})

describe('formatMetadata', () => {
  it('is compact JSON, cut when long', () => {
    expect(formatMetadata({ category: 'news', year: 2024 })).toBe('{"category":"news","year":2024}')
    expect(formatMetadata(undefined)).toBe('')
    const cut = formatMetadata({ text: 'x'.repeat(200) }, 20)
    expect(cut).toHaveLength(20)
    expect(cut.endsWith('…')).toBe(true)
  })
})
