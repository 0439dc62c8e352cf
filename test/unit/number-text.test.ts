import { describe, expect, it } from 'vitest'
import { parseJsonInput } from '../../supabase/functions/_shared/json-input.ts'
import { numberArrayText } from '../../supabase/functions/_shared/number-text.ts'
import { toVectorText } from '../../supabase/functions/_shared/vector-values.ts'

/** Every array of numbers in `value` with the text it was given, by path. */
function texts(value: unknown, path = ''): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((item) => typeof item === 'number'))
      out[path] = numberArrayText(value)
    value.forEach((item, index) => Object.assign(out, texts(item, `${path}/${index}`)))
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value))
      Object.assign(out, texts(item, `${path}/${key}`))
  }
  return out
}

describe('the text of a body’s arrays of numbers', () => {
  it('is kept as the client wrote it, wherever the array is', () => {
    const body = parseJsonInput(
      '{"vector": [ 1.50, -2e-3 ,3 ], "queries":[{"vector":[0.1,0.2]},{"id":"x"}],' +
        ' "records":[{"id":"a","values":[1E+2,4],"metadata":{"tags":["a"],"n":[7]}}]}',
    )
    expect(texts(body)).toEqual({
      '/vector': '[ 1.50, -2e-3 ,3 ]',
      '/queries/0/vector': '[0.1,0.2]',
      '/records/0/values': '[1E+2,4]',
      '/records/0/metadata/n': '[7]',
    })
  })

  it('pairs each text with its own array whatever the key order or repeats', () => {
    // Integer-like keys come first in a JS object; the last of repeated keys wins in both.
    const body = parseJsonInput(
      '{"b":[1,2],"2":[3],"1":{"v":[4]},"v":[5],"v":[6,7],"x":{"v":[8]},"x":{"w":[9]},"k\\u0065y":[10]}',
    )
    expect(texts(body)).toEqual({
      '/1/v': '[4]',
      '/2': '[3]',
      '/b': '[1,2]',
      '/v': '[6,7]',
      '/x/w': '[9]',
      '/key': '[10]',
    })
  })

  it('leaves no text where the last of a repeated key is not an array of numbers', () => {
    const body = parseJsonInput(
      '{"a":[1,2],"a":[],"b":[1,2],"b":[null,2],"c":[[1,2]],"c":[["x",2]],"d":[1],"d":[3]}',
    ) as Record<string, unknown[]>
    expect(numberArrayText(body.a!)).toBeUndefined()
    expect(numberArrayText(body.b!)).toBeUndefined()
    expect(numberArrayText(body.c![0] as unknown[])).toBeUndefined()
    expect(numberArrayText(body.d!)).toBe('[3]')
  })

  it('records nothing for a body of more than 10,000 arrays, and stops looking', () => {
    const many = parseJsonInput(`{"v":[1,2],"rest":[${'[1],'.repeat(10_000)}[1]]}`) as {
      v: number[]
      rest: number[][]
    }
    expect(numberArrayText(many.v)).toBeUndefined()
    expect(numberArrayText(many.rest[0]!)).toBeUndefined()
    const fewer = parseJsonInput(`{"v":[1,2],"rest":[${'[1],'.repeat(9_000)}[1]]}`) as {
      v: number[]
    }
    expect(numberArrayText(fewer.v)).toBe('[1,2]')
  })

  it('skips strings that look like arrays, nested arrays and mixed ones', () => {
    const body = parseJsonInput(
      '{"s":"[1,2] \\" [3]","nested":[[1,2],[3]],"mixed":[1,"2"],"empty":[],"deep":[[[4.5]]]}',
    ) as Record<string, unknown>
    expect(texts(body)).toEqual({
      '/nested/0': '[1,2]',
      '/nested/1': '[3]',
      '/deep/0/0': '[4.5]',
    })
  })

  it('goes into SQL as it came, checked as before', () => {
    const shape = {
      type: 'vector' as const,
      dimensions: 3,
      indexed: true,
      metric: 'cosine' as const,
    }
    const body = parseJsonInput('{"vector":[0.10000000000000001, 2, -3.0]}') as { vector: unknown }
    expect(toVectorText(shape, body.vector, 'vector')).toBe('[0.10000000000000001, 2, -3.0]')
    // An array built in code has no text: it is printed.
    expect(toVectorText(shape, [0.1, 2, -3], 'vector')).toBe('[0.1,2,-3]')
    const zero = parseJsonInput('{"vector":[0, 0.0, -0]}') as { vector: unknown }
    expect(() => toVectorText(shape, zero.vector, 'vector')).toThrow(/zero vector/)
    const big = parseJsonInput('{"vector":[1, 2, 4e38]}') as { vector: unknown }
    expect(() => toVectorText(shape, big.vector, 'vector')).toThrow(
      'vector.2: out of range for a float4 element',
    )
  })

  it('agrees with JSON.parse on generated bodies', () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const make = (depth: number): unknown => {
      const pick = random()
      if (depth > 3 || pick < 0.3) return Math.round((random() - 0.5) * 1e6) / 1e3
      if (pick < 0.45) return `s${Math.floor(random() * 100)}"[1]\\`
      if (pick < 0.7) return Array.from({ length: Math.floor(random() * 5) }, () => make(depth + 1))
      const object: Record<string, unknown> = {}
      for (let i = 0; i < 4; i++) object[random() < 0.3 ? String(i) : `k${i}`] = make(depth + 1)
      return object
    }
    for (let round = 0; round < 200; round++) {
      const body = parseJsonInput(JSON.stringify({ root: make(0) }, null, round % 2 ? 1 : 0))
      for (const [path, text] of Object.entries(texts(body))) {
        const array = path
          .split('/')
          .slice(1)
          .reduce<unknown>((at, step) => (at as Record<string, unknown>)[step], body)
        expect(text, path).toBeDefined()
        expect(JSON.parse(text!), path).toEqual(array)
      }
    }
  })
})
