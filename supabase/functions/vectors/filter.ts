/**
 * The metadata filter language, compiled to a SQL condition whose every key and value is a
 * bound parameter: the SQL text holds only placeholders, operators and the table alias.
 *
 * ```
 * { "category": "news", "year": { "$gte": 2020, "$lt": 2025 }, "author.name": { "$in": ["a", "b"] },
 *   "tags": { "$contains": "pgvector" }, "$or": [{ "draft": { "$exists": false } }, { "draft": false }] }
 * ```
 * The semantics, with arrays, are in docs/collections.md. Equality, `$in` and `$contains`
 * compile to jsonb containment (`metadata @> '{"category":"news"}'`), which the collection's
 * GIN index serves. Every filter is bounded (`FILTER_LIMITS`) before it is compiled whole, so
 * that no request makes the database do work out of proportion to its size.
 */
import { HttpError } from '../_shared/errors.ts'
import { type DeclaredField, FIELD_TYPES, fieldExpression, fitsField } from './fields.ts'

/** A filter as a client sends it. */
export type Filter = Record<string, unknown>

/** The bounds every filter is held to; a filter past one is refused with 400, the bound named. */
export const FILTER_LIMITS = {
  /** `$and`/`$or` nesting. */
  depth: 8,
  /** Field conditions in the whole filter. */
  conditions: 64,
  /** Values in one `$in`, `$nin`, `$contains` list or array equality. */
  list: 1000,
  /** Segments of a dotted field path (metadata nests at most 16 deep). */
  pathSegments: 16,
  /** Characters in one field name, dots included. */
  fieldLength: 256,
  /** Characters of JSON the compiled filter sends as parameters, all conditions together. */
  compiledChars: 256 * 1024,
} as const

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
  '$contains',
])

type Scalar = string | number | boolean | null

/**
 * Compiles `filter` to a condition on `column` (a jsonb column reference such as
 * `c.metadata`), adding its values to `params`.
 *
 * @throws HttpError 400 `invalid_filter` naming the path of what is wrong, or the bound broken.
 * @example
 * const params = new SqlParams()
 * compileFilter({ year: { $gt: 2020 } }, 'c.metadata', params)
 * // "(jsonb_typeof(c.metadata #> $1::text[]) = 'number' and (c.metadata #> $1::text[]) > $2::text::jsonb)"
 */
export function compileFilter(
  filter: unknown,
  column: string,
  params: SqlParams,
  fields: readonly DeclaredField[] = [],
): string {
  return compileFilterPlan(filter, column, params, fields).sql
}

/**
 * `compileFilter`, and the product of its `@> any(…)` lists' lengths: Postgres scans a GIN
 * index once per combination of array keys, so a bitmap scan is safe only when it is small.
 */
export function compileFilterPlan(
  filter: unknown,
  column: string,
  params: SqlParams,
  fields: readonly DeclaredField[] = [],
): { sql: string; arrayKeys: number } {
  const compiler = new Compiler(column, params, fields)
  const sql = compiler.object(filter, 'filter', 0)
  return { sql, arrayKeys: compiler.arrayKeys }
}

/**
 * Whether an index narrows the rows a (compiled, so valid) filter lets through: one of its
 * conditions that must hold is containment (the GIN index) or a comparison on a declared
 * field (its btree). Then counting the matching rows is cheap; else it reads the table.
 */
export function filterUsesIndex(filter: Filter, fields: readonly DeclaredField[] = []): boolean {
  return Object.entries(filter).some(([key, value]) => {
    if (key === '$and') return (value as Filter[]).some((item) => filterUsesIndex(item, fields))
    if (key === '$or') return (value as Filter[]).every((item) => filterUsesIndex(item, fields))
    const declared = fields.find((field) => field.name === key)
    const operators =
      isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))
        ? Object.entries(value)
        : [['$eq', value] as const]
    return operators.some(([operator, operand]) => {
      if (operator === '$eq' || operator === '$in' || operator === '$contains') return true
      return operator in COMPARISONS && declared !== undefined && fitsField(declared, operand)
    })
  })
}

/** One compilation: its output and the budget it has used. */
class Compiler {
  #conditions = 0
  #chars = 0
  /**
   * The product of the `@> any(…)` lists' lengths: a bitmap scan of the GIN index walks the
   * combinations of its array keys, so that three lists of 30 are 27,000 index scans.
   */
  arrayKeys = 1

  constructor(
    readonly column: string,
    readonly params: SqlParams,
    readonly fields: readonly DeclaredField[],
  ) {}

  object(filter: unknown, path: string, depth: number): string {
    if (!isPlainObject(filter)) fail(path, 'expected an object')
    if (depth > FILTER_LIMITS.depth) fail(path, `filters nest at most ${FILTER_LIMITS.depth} deep`)
    const entries = Object.entries(filter)
    if (entries.length === 0) fail(path, 'expected at least one condition')
    const parts = entries.map(([key, value]) => {
      const at = `${path}.${shown(key)}`
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0)
          fail(at, 'expected a non-empty array of filters')
        const joined = value
          .map((item, index) => this.object(item, `${at}.${index}`, depth + 1))
          .join(key === '$and' ? ' and ' : ' or ')
        return `(${joined})`
      }
      if (key.startsWith('$')) fail(at, `unknown operator ${JSON.stringify(shown(key))}`)
      return this.field(fieldPath(key, at), value, at)
    })
    return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`
  }

  field(field: readonly string[], condition: unknown, path: string): string {
    const operators =
      isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))
        ? Object.entries(condition)
        : [['$eq', condition] as const]
    const parts = operators.map(([operator, operand]) => {
      const at =
        operators.length === 1 && operator === '$eq' && !isPlainObject(condition)
          ? path
          : `${path}.${shown(operator)}`
      if (!FIELD_OPERATORS.has(operator))
        fail(at, `unknown operator ${JSON.stringify(shown(operator))}`)
      if (++this.#conditions > FILTER_LIMITS.conditions)
        fail(at, `a filter has at most ${FILTER_LIMITS.conditions} conditions`)
      return this.operator(field, operator, operand, at)
    })
    return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`
  }

  operator(field: readonly string[], operator: string, operand: unknown, path: string): string {
    const { column } = this
    const declared = this.declared(field, operator, operand, path)
    if (declared) return declared
    const at = () => `(${column} #> ${this.params.add(field, 'text[]')})`
    switch (operator) {
      case '$eq':
        return this.equals(field, operand, path)
      case '$ne':
        // Like MongoDB, a record without the field matches $ne.
        return `not ${this.equals(field, operand, path)}`
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const bound = comparable(operand, path)
        // jsonb orders values of different types by type: compare numbers with numbers only.
        const kind = typeof bound === 'number' ? 'number' : 'string'
        const target = at()
        return `(jsonb_typeof(${target}) = '${kind}' and ${target} ${COMPARISONS[operator]} ${this.json(JSON.stringify(bound), path)})`
      }
      case '$in':
      case '$nin': {
        const values = list(operand, path)
        // A scalar field equal to one of them, or an array field holding one of them.
        const wrap = nesting(field)
        const candidates: string[] = []
        for (const value of values) {
          const text = JSON.stringify(value)
          for (const candidate of [wrap(text), wrap(`[${text}]`)]) {
            this.spend(candidate.length, path)
            candidates.push(candidate)
          }
        }
        this.arrayKeys *= candidates.length
        const test = `${column} @> any(${this.params.add(candidates, 'jsonb[]')})`
        return operator === '$in' ? test : `not (${test})`
      }
      case '$contains': {
        // An array field that holds the value, or every value of a list.
        const values = Array.isArray(operand) ? list(operand, path) : [scalar(operand, path)]
        return `${column} @> ${this.json(nesting(field)(JSON.stringify(values)), path)}`
      }
      case '$exists':
        if (typeof operand !== 'boolean') fail(path, 'expected true or false')
        return `${at()} is ${operand ? 'not ' : ''}null`
    }
    return fail(path, `unknown operator ${JSON.stringify(shown(operator))}`)
  }

  /**
   * A condition on a declared field that its btree index serves: equality, a range, or `$in`
   * (which also keeps matching arrays that hold a value, as on any field). Undefined when the
   * field is not declared or the operand is not of its type: the generic form then applies.
   */
  declared(
    field: readonly string[],
    operator: string,
    operand: unknown,
    path: string = '',
  ): string | undefined {
    const name = field.join('.')
    const declared = this.fields.find((candidate) => candidate.name === name)
    if (!declared) return undefined
    const sqlType = FIELD_TYPES[declared.type]
    const expression = () => fieldExpression(this.column, declared)
    if (operator === '$eq' || operator in COMPARISONS) {
      if (!fitsField(declared, operand)) return undefined
      const op = operator === '$eq' ? '=' : COMPARISONS[operator as keyof typeof COMPARISONS]
      this.spend(String(operand).length, path)
      return `${expression()} ${op} ${this.params.add(bound(operand), sqlType)}`
    }
    if (operator === '$in' && Array.isArray(operand) && operand.length > 0) {
      if (operand.length > FILTER_LIMITS.list || !operand.every((v) => fitsField(declared, v))) {
        return undefined
      }
      const values = operand.map(bound)
      const wrap = nesting(field)
      const arrays = operand.map((value) => wrap(`[${JSON.stringify(value)}]`))
      for (const text of [...values.map(String), ...arrays]) this.spend(text.length, path)
      this.arrayKeys *= arrays.length
      return `(${expression()} = any(${this.params.add(values, `${sqlType}[]`)}) or ${this.column} @> any(${this.params.add(arrays, 'jsonb[]')}))`
    }
    return undefined
  }

  /** Equality with a scalar (containment), or with an array of scalars (exactly that array). */
  equals(field: readonly string[], operand: unknown, path: string): string {
    if (!Array.isArray(operand)) {
      const text = JSON.stringify(scalar(operand, path))
      return `(${this.column} @> ${this.json(nesting(field)(text), path)})`
    }
    const text = JSON.stringify(list(operand, path, 0))
    // Containment lets the GIN index narrow the rows; equality makes it exact.
    return `(${this.column} @> ${this.json(nesting(field)(text), path)} and ${this.column} #> ${this.params.add(field, 'text[]')} = ${this.json(text, path)})`
  }

  json(text: string, path: string): string {
    this.spend(text.length, path)
    return this.params.add(text, 'jsonb')
  }

  spend(chars: number, path: string): void {
    this.#chars += chars
    if (this.#chars > FILTER_LIMITS.compiledChars) {
      fail(
        path,
        `the filter compiles to more than ${FILTER_LIMITS.compiledChars} characters of JSON: use fewer values or shorter field paths`,
      )
    }
  }
}

/**
 * A declared field's operand as the driver binds it: numbers as text (exact as numeric), and
 * booleans as they are (postgres.js writes a bool parameter from `true`/`false` only).
 */
function bound(value: unknown): string | boolean {
  return typeof value === 'boolean' ? value : String(value)
}

/** `a.b.c` as the path `['a','b','c']`, within the bounds. */
function fieldPath(key: string, path: string): string[] {
  if (key.length > FILTER_LIMITS.fieldLength)
    fail(
      path,
      `a field name has at most ${FILTER_LIMITS.fieldLength} characters, not ${key.length}`,
    )
  if (key.includes('\u0000')) fail(path, 'a field name cannot contain NUL characters')
  const segments = key.split('.')
  if (segments.length > FILTER_LIMITS.pathSegments)
    fail(
      path,
      `a field path has at most ${FILTER_LIMITS.pathSegments} segments, not ${segments.length}`,
    )
  if (segments.some((segment) => segment === '')) fail(path, 'a field name has an empty segment')
  return segments
}

/** Wraps a JSON value's text in the objects of a path: `{"a":{"b":<value>}}` for `a.b`. */
function nesting(field: readonly string[]): (text: string) => string {
  const open = field.map((segment) => `{${JSON.stringify(segment)}:`).join('')
  const close = '}'.repeat(field.length)
  return (text) => `${open}${text}${close}`
}

function list(operand: unknown, path: string, min = 1): Scalar[] {
  if (!Array.isArray(operand) || operand.length < min)
    fail(path, min > 0 ? 'expected a non-empty array' : 'expected an array')
  if (operand.length > FILTER_LIMITS.list)
    fail(path, `expected at most ${FILTER_LIMITS.list} values, not ${operand.length}`)
  return operand.map((item, index) => scalar(item, `${path}.${index}`))
}

function comparable(value: unknown, path: string): number | string {
  if (typeof value === 'string') return scalar(value, path) as string
  if (typeof value === 'number') return finite(value, path)
  return fail(path, 'expected a number or a string')
}

function scalar(value: unknown, path: string): Scalar {
  // Postgres text cannot hold NUL, so no stored value can equal such a string.
  if (typeof value === 'string' && value.includes('\u0000'))
    fail(path, 'strings cannot contain NUL characters')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return finite(value, path)
  if (Array.isArray(value)) fail(path, 'expected a string, number, boolean or null, not an array')
  return fail(path, 'expected a string, number, boolean or null')
}

/** A compared number must be finite: JSON.stringify would send Infinity as null. */
function finite(value: number, path: string): number {
  if (!Number.isFinite(value)) fail(path, 'expected a finite number')
  return value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A key as messages show it: a hostile one may be megabytes long. */
function shown(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key
}

function fail(path: string, message: string): never {
  throw new HttpError(400, 'invalid_filter', `${path}: ${message}`)
}
