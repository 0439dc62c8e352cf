import { describe, expect, it } from 'vitest'
import { JsonText, stringifyJson } from '../../supabase/functions/_shared/json-text.ts'
import { vectorJson } from '../../supabase/functions/_shared/vector-values.ts'

describe('stringifyJson', () => {
  it('writes JsonText verbatim wherever it sits, and the rest as JSON.stringify does', () => {
    const body = {
      matches: [
        {
          id: 'a',
          distance: 0.5,
          values: new JsonText('[1,2.5,3e-05]'),
          metadata: new JsonText('{"k": [1, "x"]}'),
        },
        { id: 'b', distance: 1, values: new JsonText('[4,5,6]') },
      ],
      scan: 'index',
    }
    const text = stringifyJson(body)
    expect(text).toBe(
      '{"matches":[{"id":"a","distance":0.5,"values":[1,2.5,3e-05],"metadata":{"k": [1, "x"]}},{"id":"b","distance":1,"values":[4,5,6]}],"scan":"index"}',
    )
    expect(JSON.parse(text).matches[0].values).toEqual([1, 2.5, 0.00003])
  })

  it('leaves strings that look like its stand-ins alone', () => {
    const tricky = ['\\u0000x:0', '"\\u0000', 'u0000:0', '\u0001:0']
    const body = { ids: tricky, values: new JsonText('[1]'), more: { s: '\\"\\u0000' } }
    expect(JSON.parse(stringifyJson(body))).toEqual({
      ids: tricky,
      values: [1],
      more: { s: '\\"\\u0000' },
    })
  })

  it('is JSON.stringify when there is no JsonText, and the text itself at the top', () => {
    const plain = { a: [1, { b: null }], c: 'd', e: undefined }
    expect(stringifyJson(plain)).toBe(JSON.stringify(plain))
    expect(stringifyJson(new JsonText('{"x":1}'))).toBe('{"x":1}')
  })

  it('takes a vector column as pgvector printed it, and null for a record with no vector', () => {
    const values = {
      dense: vectorJson('vector', '[1,-0,1e+30]'),
      half: vectorJson('halfvec', '[0.5,2]'),
      sparse: vectorJson('sparsevec', '{1:0.5,4:2}/5'),
      bits: vectorJson('bit', '0101'),
      none: vectorJson('sparsevec', null),
    }
    expect(JSON.parse(stringifyJson(values))).toEqual({
      dense: [1, -0, 1e30],
      half: [0.5, 2],
      sparse: { indices: [0, 3], values: [0.5, 2], dimensions: 5 },
      bits: '0101',
      none: null,
    })
  })
})
