/**
 * A collection's definition as `npm run collection:new` takes it, and the checks that keep it
 * within what pgvector can index.
 */
import {
  INDEX_DIMENSION_LIMITS,
  INDEX_METHODS,
  type IndexMethod,
  type Metric,
  METRICS,
  SPARSEVEC_MAX_DIMENSIONS,
  unsupportedReason,
  VECTOR_TYPES,
  type VectorType,
} from '../../supabase/functions/_shared/vector-kinds.ts'
import { ACCESS_MODES, type AccessMode } from '../../supabase/functions/_shared/vectors-contract.ts'
import { COLLECTION_NAME } from '../../supabase/functions/vectors/shape.ts'
import { type DeclaredField, parseDeclaredFields } from '../../supabase/functions/vectors/fields.ts'
import { DEFAULT_TEXT_LANGUAGE, TEXT_LANGUAGE } from './text.ts'

/** Everything a collection's migration needs. */
export interface CollectionSpec {
  name: string
  dimensions: number
  type: VectorType
  metric: Metric
  index: IndexMethod
  /** HNSW: links per node. */
  m?: number
  /** HNSW: candidate list size while building. */
  efConstruction?: number
  /** IVFFlat: number of lists. */
  lists?: number
  /** Who reads and writes the records: everyone reads (`public`), or each user or tenant their own. */
  access: AccessMode
  /** With `--text`: a `content` column, full-text search in this configuration, hybrid queries. */
  text?: { language: string }
  /** With `--index-field`: metadata fields with a btree index of their own (fields.ts). */
  fields?: DeclaredField[]
}

/** A definition pgvector cannot serve; the message names the limit. */
export class CollectionSpecError extends Error {
  override name = 'CollectionSpecError'
}

/** Names a collection may not take: the tutorial's table, and prefixes Postgres or Matchbox use. */
const RESERVED = /^(items|matchbox.*|pg_.*)$/

/** Raw input, as parsed from the command line. */
export interface CollectionInput {
  name?: string
  dimensions?: string | number
  type?: string
  metric?: string
  index?: string
  m?: string | number
  efConstruction?: string | number
  lists?: string | number
  /** `public` (the default), `owner` or `tenant`. */
  access?: string
  /** `--text`: keep a text per record, searchable by keywords. */
  text?: boolean
  /** `--language`: the text search configuration (default english); needs `--text`. */
  language?: string
  /** `--index-field name:type`, repeatable: declared metadata fields. */
  indexField?: string | string[]
}

/**
 * Checks and completes a definition.
 *
 * @throws CollectionSpecError naming what is wrong and the limit it breaks.
 * @example
 * parseCollectionSpec({ name: 'docs', dimensions: '384' })
 * // { name: 'docs', dimensions: 384, type: 'vector', metric: 'cosine', index: 'hnsw', m: 16, efConstruction: 64, access: 'public' }
 */
export function parseCollectionSpec(input: CollectionInput): CollectionSpec {
  const name = input.name ?? ''
  if (!COLLECTION_NAME.test(name)) {
    throw new CollectionSpecError(
      `collection name ${JSON.stringify(name)} is not a safe identifier: use 1-48 lowercase letters, digits and _, starting with a letter`,
    )
  }
  if (RESERVED.test(name)) throw new CollectionSpecError(`collection name "${name}" is reserved`)

  const type = oneOf(input.type ?? 'vector', VECTOR_TYPES, '--type')
  const metric = oneOf(input.metric ?? (type === 'bit' ? 'hamming' : 'cosine'), METRICS, '--metric')
  const index = oneOf(input.index ?? 'hnsw', INDEX_METHODS, '--index')
  const access = oneOf(input.access ?? 'public', ACCESS_MODES, '--access')
  const dimensions = integer(input.dimensions, '--dimensions', 1, Number.MAX_SAFE_INTEGER)
  checkDimensions(type, dimensions)
  // Bit distances on float vectors is a type mix-up, not an index limit: name the type to use.
  if ((type === 'vector' || type === 'halfvec') && (metric === 'hamming' || metric === 'jaccard')) {
    throw new CollectionSpecError(`--metric ${metric} is for binary vectors: use --type bit`)
  }
  const reason = unsupportedReason(type, metric, index)
  if (reason) throw new CollectionSpecError(reason)
  const text = textOption(input)
  const fields = fieldsOption(input)

  if (index === 'hnsw') {
    if (input.lists !== undefined)
      throw new CollectionSpecError('--lists applies to ivfflat indexes, not hnsw')
    const m = integer(input.m ?? 16, '--m', 2, 100)
    const efConstruction = integer(input.efConstruction ?? 64, '--ef-construction', 4, 1000)
    if (efConstruction < 2 * m) {
      throw new CollectionSpecError(
        `--ef-construction must be at least twice --m (${2 * m}), not ${efConstruction}`,
      )
    }
    return { name, dimensions, type, metric, index, m, efConstruction, access, ...text, ...fields }
  }
  if (input.m !== undefined || input.efConstruction !== undefined) {
    throw new CollectionSpecError('--m and --ef-construction apply to hnsw indexes, not ivfflat')
  }
  const lists = integer(input.lists ?? 100, '--lists', 1, 32768)
  return { name, dimensions, type, metric, index, lists, access, ...text, ...fields }
}

/** `{ fields }` from `--index-field`s, each checked, none twice; else nothing. */
function fieldsOption(input: CollectionInput): { fields?: DeclaredField[] } {
  const given = input.indexField === undefined ? [] : [input.indexField].flat()
  if (given.length === 0) return {}
  let fields: DeclaredField[]
  try {
    fields = parseDeclaredFields(given)
  } catch (error) {
    throw new CollectionSpecError(`--index-field: ${(error as Error).message}`)
  }
  return { fields }
}

/** `{ text: { language } }` with `--text`, else nothing; `--language` alone is refused. */
function textOption(input: CollectionInput): { text?: { language: string } } {
  if (!input.text) {
    if (input.language !== undefined) throw new CollectionSpecError('--language needs --text')
    return {}
  }
  const language = input.language ?? DEFAULT_TEXT_LANGUAGE
  if (!TEXT_LANGUAGE.test(language)) {
    throw new CollectionSpecError(
      `--language must name a text search configuration (e.g. english, simple), not ${JSON.stringify(language)}`,
    )
  }
  return { text: { language } }
}

function checkDimensions(type: VectorType, dimensions: number): void {
  if (type === 'sparsevec') {
    if (dimensions > SPARSEVEC_MAX_DIMENSIONS) {
      throw new CollectionSpecError(
        `sparsevec takes at most ${SPARSEVEC_MAX_DIMENSIONS.toLocaleString('en')} dimensions, not ${dimensions}`,
      )
    }
    return
  }
  const limit = INDEX_DIMENSION_LIMITS[type]
  if (dimensions > limit) {
    const hint = type === 'vector' ? ': use --type halfvec (up to 4,000) or fewer dimensions' : ''
    throw new CollectionSpecError(
      `pgvector indexes ${type} of at most ${limit.toLocaleString('en')} dimensions, not ${dimensions}${hint}`,
    )
  }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new CollectionSpecError(
    `${flag} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`,
  )
}

function integer(
  value: string | number | undefined,
  flag: string,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') throw new CollectionSpecError(`${flag} is required`)
  const number = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new CollectionSpecError(
      `${flag} must be a whole number from ${min} to ${max.toLocaleString('en')}, not ${value}`,
    )
  }
  return number
}
