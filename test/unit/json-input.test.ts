import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, parseJsonInput } from '../../supabase/functions/_shared/json-input.ts'

/** The message of the 400 that `text` gets, or undefined if it parses. */
function refusal(text: string): string | undefined {
  try {
    parseJsonInput(text)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

describe('parseJsonInput', () => {
  it('parses a search body', () => {
    expect(parseJsonInput('{"vector":[1,2.5,-3e2],"topK":10}')).toEqual({
      vector: [1, 2.5, -300],
      topK: 10,
    })
  })

  it('refuses nesting past the bound, and takes it at the bound', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
    expect(refusal(nested(MAX_JSON_DEPTH))).toBeUndefined()
    expect(refusal(nested(MAX_JSON_DEPTH + 1))).toBe(
      `request body nests deeper than ${MAX_JSON_DEPTH} levels`,
    )
  })

  it('counts only the brackets outside strings', () => {
    const text = JSON.stringify({ note: '['.repeat(100), list: [[1], { a: [2] }] })
    expect(refusal(text)).toBeUndefined()
    const deep = `{"note":"${'{'.repeat(40)}","x":${'['.repeat(40)}${']'.repeat(40)}}`
    expect(refusal(deep)).toBe(`request body nests deeper than ${MAX_JSON_DEPTH} levels`)
  })

  it('names the path of a number that overflows', () => {
    expect(refusal('{"vector":[1,2,1e400]}')).toBe(
      'vector.2: not a finite number (it overflows a double)',
    )
    expect(refusal('{"filter":{"year":{"$gt":-1e999}}}')).toBe(
      'filter.year.$gt: not a finite number (it overflows a double)',
    )
  })

  it('names the path of a lone surrogate, in a value or a key', () => {
    expect(refusal('{"metadata":{"title":["ok","\\ud800"]}}')).toMatch(
      /^metadata\.title\.1: a lone UTF-16 surrogate/,
    )
    expect(refusal('{"metadata":{"\\udc00":1}}')).toMatch(
      /^metadata\.\udc00: the key has a lone UTF-16 surrogate/,
    )
    // A well-formed pair is one character, and fine.
    expect(refusal('{"title":"\\ud83d\\ude00"}')).toBeUndefined()
  })

  it('refuses a __proto__ key wherever it is', () => {
    expect(refusal('{"records":[{"metadata":{"__proto__":{"admin":true}}}]}')).toBe(
      'records.0.metadata.__proto__: "__proto__" is not allowed as a key',
    )
  })
})
