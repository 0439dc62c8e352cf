/**
 * The metadata filter language, compiled to a SQL condition whose every key and value is a
 * bound parameter: the SQL text holds only placeholders, operators and the table alias.
 *
 * ```
 * { "category": "news", "year": { "$gte": 2020, "$lt": 2025 }, "author.name": { "$in": ["a", "b"] },
 *   "$or": [{ "draft": { "$exists": false } }, { "draft": false }] }
 * ```
 * A field is a key, or a dotted path into nested objects. Operators: $eq $ne $gt $gte $lt
 * $lte $in $nin $exists, and $and $or over lists of filters. A bare value means $eq; several
 * operators on one field, or several fields, must all hold.
 *
 * Equality compiles to jsonb containment (`metadata @> '{"category":"news"}'`), which the
 * collection's GIN index serves.
 */
import { HttpError } from '../_shared/errors.ts'

/** A filter as a client sends it. */
export type Filter = Record<string, unknown>

/** Collects bound parameters and hands out their placeholders. */
export class SqlParams {
  readonly values: unknown[] = []

  /**
   * The placeholder for `value`, with a cast, e.g. `$3::jsonb`. JSON goes in as text and is
   * cast by the server: a parameter typed jsonb would be JSON-encoded a second time by the
   * driver.
   */
  add(value: unknown, cast: string): string {
    this.values.push(value)
    const placeholder = `$${this.values.length}`
    if (cast === 'jsonb') return `${placeholder}::text::jsonb`
    if (cast === 'jsonb[]') return `${placeholder}::text[]::jsonb[]`
    return `${placeholder}::${cast}`
  }
}

const COMPARISONS = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const
const FIELD_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
])
const MAX_DEPTH = 8
const MAX_CONDITIONS = 64
const MAX_LIST = 1000

/**
 * Compiles `filter` to a condition on `column` (a jsonb column reference such as
 * `c.metadata`), adding its values to `params`.
 *
 * @throws HttpError 400 `invalid_filter` naming the path of what is wrong.
 * @example
 * const params = new SqlParams()
 * compileFilter({ year: { $gt: 2020 } }, 'c.metadata', params)
 * // "(jsonb_typeof(c.metadata #> $1::text[]) = 'number' and (c.metadata #> $1::text[]) > $2::jsonb)"
 */
export function compileFilter(filter: unknown, column: string, params: SqlParams): string {
  const state = { conditions: 0 }
  return compileObject(filter, 'filter', column, params, state, 0)
}

interface State {
  conditions: number
}

function compileObject(
  filter: unknown,
  path: string,
  column: string,
  params: SqlParams,
  state: State,
  depth: number,
): string {
  if (!isPlainObject(filter)) fail(path, 'expected an object')
  if (depth > MAX_DEPTH) fail(path, `filters nest at most ${MAX_DEPTH} deep`)
  const entries = Object.entries(filter)
  if (entries.length === 0) fail(path, 'expected at least one condition')
  const parts = entries.map(([key, value]) => {
    const at = `${path}.${key}`
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        fail(at, 'expected a non-empty array of filters')
      const joined = value
        .map((item, index) =>
          compileObject(item, `${at}.${index}`, column, params, state, depth + 1),
        )
        .join(key === '$and' ? ' and ' : ' or ')
      return `(${joined})`
    }
    if (key.startsWith('$')) fail(at, `unknown operator ${JSON.stringify(key)}`)
    return compileField(fieldPath(key, at), value, at, column, params, state)
  })
  return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`
}

function compileField(
  field: string[],
  condition: unknown,
  path: string,
  column: string,
  params: SqlParams,
  state: State,
): string {
  const operators =
    isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))
      ? Object.entries(condition)
      : [['$eq', condition] as const]
  if (operators.length === 0) fail(path, 'expected at least one operator')
  const parts = operators.map(([operator, operand]) => {
    const at =
      operators.length === 1 && operator === '$eq' && !isPlainObject(condition)
        ? path
        : `${path}.${operator}`
    if (!FIELD_OPERATORS.has(operator)) fail(at, `unknown operator ${JSON.stringify(operator)}`)
    if (++state.conditions > MAX_CONDITIONS)
      fail(at, `a filter has at most ${MAX_CONDITIONS} conditions`)
    return compileOperator(field, operator, operand, at, column, params)
  })
  return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`
}

function compileOperator(
  field: string[],
  operator: string,
  operand: unknown,
  path: string,
  column: string,
  params: SqlParams,
): string {
  const value = () => `(${column} #> ${params.add(field, 'text[]')})`
  switch (operator) {
    case '$eq':
      return `${column} @> ${params.add(JSON.stringify(nest(field, scalar(operand, path))), 'jsonb')}`
    case '$ne':
      // Like MongoDB, a record without the field matches $ne.
      return `not (${column} @> ${params.add(JSON.stringify(nest(field, scalar(operand, path))), 'jsonb')})`
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' && typeof operand !== 'string')
        fail(path, 'expected a number or a string')
      // jsonb orders values of different types by type: compare numbers with numbers only.
      const kind = typeof operand === 'number' ? 'number' : 'string'
      const target = value()
      return `(jsonb_typeof(${target}) = '${kind}' and ${target} ${COMPARISONS[operator]} ${params.add(JSON.stringify(operand), 'jsonb')})`
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand) || operand.length === 0) fail(path, 'expected a non-empty array')
      if (operand.length > MAX_LIST) fail(path, `expected at most ${MAX_LIST} values`)
      const candidates = operand.map((item, index) =>
        JSON.stringify(nest(field, scalar(item, `${path}.${index}`))),
      )
      const test = `${column} @> any(${params.add(candidates, 'jsonb[]')})`
      return operator === '$in' ? test : `not (${test})`
    }
    case '$exists':
      if (typeof operand !== 'boolean') fail(path, 'expected true or false')
      return `${value()} is ${operand ? 'not ' : ''}null`
  }
  return fail(path, `unknown operator ${JSON.stringify(operator)}`)
}

/** `a.b.c` as the path `['a','b','c']`; empty segments are refused. */
function fieldPath(key: string, path: string): string[] {
  const segments = key.split('.')
  if (segments.some((segment) => segment === '')) fail(path, 'a field name has an empty segment')
  if (key.includes('\u0000')) fail(path, 'a field name cannot contain NUL characters')
  return segments
}

/** `{ a: { b: value } }` for the path `['a','b']`. */
function nest(field: readonly string[], value: unknown): Record<string, unknown> {
  let nested: unknown = value
  for (let i = field.length - 1; i >= 0; i--) {
    // A fresh object per level: keys like __proto__ must stay plain data.
    const level: Record<string, unknown> = Object.create(null)
    level[field[i]!] = nested
    nested = level
  }
  return nested as Record<string, unknown>
}

function scalar(value: unknown, path: string): string | number | boolean | null {
  // Postgres text cannot hold NUL, so no stored value can equal such a string.
  if (typeof value === 'string' && value.includes('\u0000'))
    fail(path, 'strings cannot contain NUL characters')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  return fail(path, 'expected a string, number, boolean or null')
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fail(path: string, message: string): never {
  throw new HttpError(400, 'invalid_filter', `${path}: ${message}`)
}
