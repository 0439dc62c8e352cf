/**
 * Declared metadata fields (`collection:new --index-field year:number`): a btree index on one
 * field's typed value, which equality, range and `$in` filters on that field use. The index
 * and the filter compiler write the field's expression with one function, so that Postgres
 * matches them (an expression index serves only the very same expression).
 */

/** The types a declared field may have, and the SQL type its values are compared as. */
export const FIELD_TYPES = { number: 'numeric', text: 'text', boolean: 'boolean' } as const

/** One of `FIELD_TYPES`' names. */
export type FieldType = keyof typeof FIELD_TYPES

/** A declared field: its dotted path and type. */
export interface DeclaredField {
  name: string
  type: FieldType
}

/**
 * A declared field's name: dotted lowercase identifiers, so that its path is safe to write as
 * a SQL literal (it must be a literal: a bound parameter would not match the index).
 */
export const FIELD_NAME = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62}){0,3}$/

/** The comment that marks an index as a declared field's: `matchbox field {"name","type"}`. */
export const FIELD_MARKER = 'matchbox field'

/** The JSON type a field's values have, as `jsonb_typeof` says it. */
const JSON_TYPES: Readonly<Record<FieldType, string>> = {
  number: 'number',
  text: 'string',
  boolean: 'boolean',
}

/**
 * The field's typed value in `column` (a jsonb column), or null when the value is missing or
 * of another type: `(case when jsonb_typeof(metadata #> '{year}') = 'number' then … end)`.
 *
 * @example
 * fieldExpression('c.metadata', { name: 'year', type: 'number' })
 */
export function fieldExpression(column: string, field: DeclaredField): string {
  const path = `'{${field.name.split('.').join(',')}}'::text[]`
  const text = `(${column} #>> ${path})`
  const typed = field.type === 'text' ? text : `${text}::${FIELD_TYPES[field.type]}`
  return `(case when jsonb_typeof(${column} #> ${path}) = '${JSON_TYPES[field.type]}' then ${typed} end)`
}

/** Whether a filter operand has the field's type, so that the field's index can compare it. */
export function fitsField(field: DeclaredField, value: unknown): boolean {
  if (field.type === 'number') return typeof value === 'number' && Number.isFinite(value)
  if (field.type === 'text') return typeof value === 'string'
  return typeof value === 'boolean'
}

/**
 * `name:type` as `--index-field` takes it.
 *
 * @throws Error naming what is wrong.
 * @example
 * parseDeclaredField('year:number') // { name: 'year', type: 'number' }
 */
export function parseDeclaredField(text: string): DeclaredField {
  const [name = '', type = '', ...rest] = text.split(':')
  if (rest.length > 0 || !FIELD_NAME.test(name)) {
    throw new Error(
      `a declared field is name:type with a lowercase (dotted) name, e.g. year:number, not ${JSON.stringify(text)}`,
    )
  }
  if (!Object.hasOwn(FIELD_TYPES, type)) {
    throw new Error(
      `field ${name}: the type must be ${Object.keys(FIELD_TYPES).join(', ')}, not ${JSON.stringify(type)}`,
    )
  }
  return { name, type: type as FieldType }
}

/**
 * Several `name:type`s, each checked, none twice.
 *
 * @throws Error naming the first one that is wrong or repeated.
 * @example
 * parseDeclaredFields(['year:number', 'lang:text'])
 */
export function parseDeclaredFields(texts: readonly string[]): DeclaredField[] {
  const fields: DeclaredField[] = []
  for (const text of texts) {
    const field = parseDeclaredField(text)
    if (fields.some((known) => known.name === field.name))
      throw new Error(`field ${field.name} is given twice`)
    fields.push(field)
  }
  return fields
}

/**
 * The SQL that declares `field` on table `public.<collection>`: the index on its expression,
 * and the comment that tells the catalog reader it is a declared field.
 */
export function declaredFieldSql(collection: string, field: DeclaredField): string {
  const index = declaredFieldIndexName(collection, field)
  return `create index ${index} on public.${collection} (${fieldExpression('metadata', field)});
comment on index public.${index} is '${FIELD_MARKER} ${JSON.stringify(field)}';
`
}

/** `<collection>_f_<field>_idx`, shortened to Postgres's 63 characters if need be. */
export function declaredFieldIndexName(collection: string, field: DeclaredField): string {
  return `${collection}_f_${field.name.replaceAll('.', '_')}`.slice(0, 59) + '_idx'
}
