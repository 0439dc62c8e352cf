/**
 * A collection's values: read from what a person types (the shape only: the elements are the
 * SDK's and the function's to refuse, as an app would see), shown in tables, drawn as numbers.
 */
import type { SparseValues, VectorValues, VectorValuesInput } from '../../src/index.ts'
import type { VectorType } from './types.ts'
import { formatVector } from './vectors.ts'

/**
 * Most dimensions a sparse vector is drawn with: past this, one dense copy per row (a
 * thousand rows of them) and the PCA over them cost more than a picture is worth, and a
 * space that sparse shows little in three components.
 */
export const MAX_DENSE_DIMENSIONS = 4096

/** What to type, by type: the messages show it. */
const EXAMPLES: Readonly<Record<VectorType, string>> = {
  vector: '[3,1,2]',
  halfvec: '[3,1,2]',
  bit: '0101 or [false,true,false,true]',
  sparsevec: '{"indices":[0,7],"values":[0.5,1],"dimensions":8}',
}

/**
 * One vector in the form of `type`, for a search: numbers (vector, halfvec), bits typed
 * bare (`0101`), as a JSON string or as booleans (bit), or `{indices, values, dimensions}`
 * (sparsevec).
 *
 * @example
 * parseValues('[3,1,2]', 'vector') // [3, 1, 2]
 * parseValues('0101', 'bit') // '0101'
 */
export function parseValues(text: string, type: VectorType): VectorValuesInput {
  const value = readValues(text, type)
  if (!isOne(value, type)) throw new Error(`expected one vector such as ${EXAMPLES[type]}`)
  return value as VectorValuesInput
}

/**
 * One vector or a list of them in the form of `type`, for an upsert.
 *
 * @example
 * parseRecordValues('[[1,2,3],[1,1,1]]', 'vector') // [[1, 2, 3], [1, 1, 1]]
 * parseRecordValues('["0101","1100"]', 'bit') // ['0101', '1100']
 */
export function parseRecordValues(text: string, type: VectorType): VectorValuesInput[] {
  const value = readValues(text, type)
  if (isOne(value, type)) return [value as VectorValuesInput]
  if (Array.isArray(value) && value.length > 0 && value.every((item) => isOne(item, type))) {
    return value as VectorValuesInput[]
  }
  throw new Error(`expected a vector such as ${EXAMPLES[type]}, or a list of them`)
}

function readValues(text: string, type: VectorType): unknown {
  const trimmed = text.trim()
  if (trimmed === '') throw new Error(`enter a vector as JSON, e.g. ${EXAMPLES[type]}`)
  // Bits typed bare: JSON would read 0101 as nothing, and 1011 as a number.
  if (type === 'bit' && /^[01]+$/.test(trimmed)) return trimmed
  try {
    return JSON.parse(trimmed)
  } catch {
    throw new Error(`not JSON: enter a vector such as ${EXAMPLES[type]}`)
  }
}

/** Whether `value` has the shape of one vector of `type` (its elements are the SDK's to check). */
function isOne(value: unknown, type: VectorType): boolean {
  switch (type) {
    case 'vector':
    case 'halfvec':
      return Array.isArray(value) && value.length > 0 && !value.some(Array.isArray)
    case 'bit':
      return (
        typeof value === 'string' ||
        (Array.isArray(value) && value.length > 0 && value.every((bit) => typeof bit === 'boolean'))
      )
    case 'sparsevec':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
  }
}

/**
 * A JSON object typed into an optional field (metadata, a filter), or undefined when the
 * field is blank.
 *
 * @example
 * parseJsonObject('{"year": {"$gte": 2020}}', 'filter') // { year: { $gte: 2020 } }
 * parseJsonObject('  ', 'filter') // undefined
 */
export function parseJsonObject(text: string, what: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`${what}: not JSON: enter an object such as {"category":"news"}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what}: expected a JSON object such as {"category":"news"}`)
  }
  return value as Record<string, unknown>
}

/**
 * Ids for `count` new records: the one typed (suffixed `-1`, `-2`… for several), or
 * `p-<timestamp>-<n>` when none is.
 *
 * @example
 * recordIds('', 2, 1732570000000) // ['p-1732570000000-1', 'p-1732570000000-2']
 * recordIds('doc', 1) // ['doc']
 */
export function recordIds(given: string, count: number, now = Date.now()): string[] {
  const base = given.trim()
  if (base !== '' && count === 1) return [base]
  const prefix = base === '' ? `p-${now}` : base
  return Array.from({ length: count }, (_, index) => `${prefix}-${index + 1}`)
}

/**
 * The numbers the scatter places a vector by: vector and halfvec as they are, bits as 0 and
 * 1, a sparse vector written out densely.
 *
 * @throws Error for a sparse vector of more than MAX_DENSE_DIMENSIONS dimensions, or values
 *   of no vector type.
 * @example
 * toNumbers('0101') // [0, 1, 0, 1]
 * toNumbers({ indices: [1], values: [0.5], dimensions: 3 }) // [0, 0.5, 0]
 */
export function toNumbers(values: VectorValues | VectorValuesInput): number[] {
  if (typeof values === 'string') {
    return Array.from(values, (bit) => {
      if (bit !== '0' && bit !== '1') throw new Error(`expected bits, found ${JSON.stringify(bit)}`)
      return Number(bit)
    })
  }
  if (Array.isArray(values)) {
    return (values as unknown[]).map((value) => {
      if (typeof value === 'boolean') return Number(value)
      if (typeof value !== 'number') throw new Error(`expected numbers or booleans`)
      return value
    })
  }
  const { indices, values: numbers, dimensions } = values as SparseValues
  if (dimensions > MAX_DENSE_DIMENSIONS) {
    throw new Error(
      `${dimensions} dimensions: the scatter draws sparse vectors of at most ${MAX_DENSE_DIMENSIONS}`,
    )
  }
  const dense = new Array<number>(dimensions).fill(0)
  indices.forEach((index, i) => (dense[index] = numbers[i]!))
  return dense
}

/**
 * Values as the tables show them: whole when short, else the first few and the size.
 *
 * @example
 * formatValues([3, 1, 2]) // '[3,1,2]'
 * formatValues(Array(384).fill(0.5)) // '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,…] (384 dims)'
 * formatValues({ indices: [0, 7], values: [0.5, 1], dimensions: 30000 }) // '{0:0.5,7:1}/30000'
 */
export function formatValues(values: VectorValues | VectorValuesInput, shown = 8): string {
  if (typeof values === 'string' || isBooleans(values)) {
    const bits =
      typeof values === 'string' ? values : values.map((bit) => (bit ? '1' : '0')).join('')
    const most = shown * 8
    return bits.length > most ? `${bits.slice(0, most)}… (${bits.length} bits)` : bits
  }
  if (Array.isArray(values)) {
    return values.length > shown * 2
      ? `[${values.slice(0, shown).join(',')},…] (${values.length} dims)`
      : formatVector(values as number[])
  }
  // Indices 0-based, as the API takes them (pgvector's own text counts from 1).
  const { indices, values: numbers, dimensions } = values
  const pairs = indices.slice(0, shown).map((index, i) => `${index}:${numbers[i]}`)
  if (indices.length > shown) pairs.push('…')
  return `{${pairs.join(',')}}/${dimensions}`
}

function isBooleans(values: unknown): values is boolean[] {
  return Array.isArray(values) && values.length > 0 && typeof values[0] === 'boolean'
}

/**
 * Metadata as the tables show it: compact JSON, cut at `max` characters.
 *
 * @example
 * formatMetadata({ category: 'news', year: 2024 }) // '{"category":"news","year":2024}'
 */
export function formatMetadata(metadata: Record<string, unknown> | undefined, max = 120): string {
  if (metadata === undefined) return ''
  const text = JSON.stringify(metadata)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
