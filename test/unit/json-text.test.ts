import { describe, expect, it } from 'vitest'
import { JsonText, stringifyJson } from '../../supabase/functions/_shared/json-text.ts'

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
})
