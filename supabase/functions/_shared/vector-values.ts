/**
 * Embeddings between their JSON forms and pgvector's text forms, checked against the
 * collection's type and dimension count, each failure naming the element at fault.
 *
 * | type      | JSON in                                   | pgvector text      | JSON out            |
 * | --------- | ----------------------------------------- | ------------------ | ------------------- |
 * | vector    | [0.1, 0.2]                                | [0.1,0.2]          | [0.1, 0.2]          |
 * | halfvec   | [0.1, 0.2]                                | [0.1,0.2]          | [0.1, 0.2] (float16)|
 * | bit       | "0101" or [false, true, false, true]     | 0101               | "0101"              |
 * | sparsevec | {indices:[0,3], values:[1,2], dimensions:5} | {1:1,4:2}/5 (1-based) | same as in      |
 */
import { FLOAT4_MAX } from './contract.ts'
import { HttpError } from './errors.ts'
import { JsonText } from './json-text.ts'
import { numberArrayText } from './number-text.ts'
import type { SparseValues, VectorValues } from './vectors-contract.ts'
import { HALFVEC_MAX, type Metric, SPARSEVEC_MAX_NONZERO, type VectorType } from './vector-kinds.ts'

/** What values are checked against. */
export interface VectorShape {
  type: VectorType
  dimensions: number
  /** Whether the collection has a vector index (which limits sparsevec's non-zero elements). */
  indexed: boolean
  /** The distance searched by; cosine refuses zero vectors, which have no cosine distance. */
  metric?: Metric | null
}

const ZERO_VECTOR =
  'a zero vector has no cosine distance (it has no direction): send one with a non-zero element'

/**
 * pgvector's text form of `values` for a column of `shape`.
 *
 * @throws HttpError 400: `dimension_mismatch` for a wrong length, `invalid_request` otherwise,
 *   the message prefixed with `path`.
 */
export function toVectorText(shape: VectorShape, values: unknown, path: string): string {
  switch (shape.type) {
    case 'vector':
      return denseText(shape, values, path, FLOAT4_MAX, 'float4')
    case 'halfvec':
      return denseText(shape, values, path, HALFVEC_MAX, 'halfvec (float16)')
    case 'bit':
      return bitText(shape, values, path)
    case 'sparsevec':
      return sparseText(shape, values, path)
  }
}

/** The JSON form of a pgvector text value of `type`. */
export function fromVectorText(type: VectorType, text: string): VectorValues {
  if (type === 'bit') return text
  if (type !== 'sparsevec') return JSON.parse(text) as number[]
  // {1:0.5,4:2}/5 — indices are 1-based in pgvector's text, 0-based in the API.
  const slash = text.lastIndexOf('/')
  const body = text.slice(1, slash - 1)
  const sparse: SparseValues = {
    indices: [],
    values: [],
    dimensions: Number(text.slice(slash + 1)),
  }
  if (body) {
    for (const pair of body.split(',')) {
      const [index, value] = pair.split(':')
      sparse.indices.push(Number(index) - 1)
      sparse.values.push(Number(value))
    }
  }
  return sparse
}

/**
 * The JSON form of a pgvector text value of `type`, as text for an answer: a `vector` or
 * `halfvec` prints as a JSON array already, and is passed on without being parsed. A record
 * with no vector (a text collection's text-only record) is `null`.
 */
export function vectorJson(type: VectorType, text: string | null): JsonText {
  if (text === null) return new JsonText('null')
  if (type === 'vector' || type === 'halfvec') return new JsonText(text)
  return new JsonText(JSON.stringify(fromVectorText(type, text)))
}

function denseText(
  shape: VectorShape,
  values: unknown,
  path: string,
  max: number,
  what: string,
): string {
  if (!Array.isArray(values)) invalid(path, `expected an array of ${shape.dimensions} numbers`)
  checkLength(shape, values.length, path)
  // One plain loop: a search's vector is checked on every request.
  let zero = true
  for (let index = 0; index < values.length; index++) {
    const value: unknown = values[index]
    if (typeof value !== 'number' || !Number.isFinite(value))
      invalid(`${path}.${index}`, 'expected a finite number')
    if (value > max || value < -max)
      invalid(`${path}.${index}`, `out of range for a ${what} element`)
    if (value !== 0) zero = false
  }
  if (zero && shape.metric === 'cosine') invalid(path, ZERO_VECTOR)
  // The client's own text of these numbers when the body had it: printing them again costs
  // more than all the checks above.
  return numberArrayText(values) ?? `[${values.join(',')}]`
}

function bitText(shape: VectorShape, values: unknown, path: string): string {
  let bits: string
  if (typeof values === 'string') {
    const bad = values.search(/[^01]/)
    if (bad >= 0)
      invalid(path, `expected a string of 0 and 1, found ${JSON.stringify(values[bad])} at ${bad}`)
    bits = values
  } else if (Array.isArray(values)) {
    const bad = values.findIndex((value) => typeof value !== 'boolean')
    if (bad >= 0) invalid(`${path}.${bad}`, 'expected a boolean')
    bits = values.map((value) => (value ? '1' : '0')).join('')
  } else {
    return invalid(
      path,
      `expected a string of ${shape.dimensions} bits (0/1) or an array of booleans`,
    )
  }
  checkLength(shape, bits.length, path)
  return bits
}

function sparseText(shape: VectorShape, values: unknown, path: string): string {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    invalid(path, 'expected {"indices": [...], "values": [...], "dimensions": n}')
  }
  const { indices, values: numbers, dimensions, ...rest } = values as Record<string, unknown>
  const extra = Object.keys(rest)[0]
  if (extra !== undefined) invalid(path, `unknown key ${JSON.stringify(extra)}`)
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions))
    invalid(`${path}.dimensions`, 'expected an integer')
  checkLength(shape, dimensions, path)
  if (!Array.isArray(indices)) invalid(`${path}.indices`, 'expected an array of indices')
  if (!Array.isArray(numbers)) invalid(`${path}.values`, 'expected an array of numbers')
  if (indices.length !== numbers.length) {
    invalid(
      path,
      `expected as many values as indices, not ${numbers.length} values for ${indices.length} indices`,
    )
  }
  if (shape.indexed && indices.length > SPARSEVEC_MAX_NONZERO) {
    invalid(
      path,
      `an indexed sparsevec has at most ${SPARSEVEC_MAX_NONZERO} non-zero elements, not ${indices.length}`,
    )
  }
  const pairs = indices.map((index, i) => {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= dimensions) {
      invalid(`${path}.indices.${i}`, `expected an integer index from 0 to ${dimensions - 1}`)
    }
    const value = numbers[i]
    if (typeof value !== 'number' || !Number.isFinite(value))
      invalid(`${path}.values.${i}`, 'expected a finite number')
    if (Math.abs(value) > FLOAT4_MAX)
      invalid(`${path}.values.${i}`, 'out of range for a float4 element')
    return [index, value] as const
  })
  if (shape.metric === 'cosine' && pairs.every(([, value]) => value === 0)) {
    invalid(path, ZERO_VECTOR)
  }
  pairs.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < pairs.length; i++) {
    if (pairs[i]![0] === pairs[i - 1]![0])
      invalid(`${path}.indices`, `index ${pairs[i]![0]} appears twice`)
  }
  return `{${pairs.map(([index, value]) => `${index + 1}:${value}`).join(',')}}/${dimensions}`
}

function checkLength(shape: VectorShape, length: number, path: string): void {
  if (length !== shape.dimensions) {
    throw new HttpError(
      400,
      'dimension_mismatch',
      `${path}: expected ${shape.dimensions} dimensions, not ${length}`,
    )
  }
}

function invalid(path: string, message: string): never {
  throw new HttpError(400, 'invalid_request', `${path}: ${message}`)
}
