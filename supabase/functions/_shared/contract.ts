/**
 * The HTTP contract of Matchbox's edge functions: the zod schemas that validate every request
 * body in the functions (Deno) and from which the SDK (Node, browsers) infers its types, so
 * that client and server cannot drift apart.
 *
 * Plain modules only (zod and this folder's constants), so that both runtimes load it as it is.
 */
import { z } from 'zod'
import { ERROR_CODES } from './errors.ts'
import { EF_SEARCH_RANGE } from './vector-kinds.ts'
import { integerIn, singleOrBatch } from './vectors-contract.ts'

export { ERROR_CODES, type ErrorCode } from './errors.ts'

/** Largest number of items one `items` request may insert. */
export const MAX_INSERT_BATCH = 1000

/** Largest `count` a `match-items` request may ask for; `public.match_items` caps at the same. */
export const MAX_MATCH_COUNT = 200

/** Default `count` of a `match-items` request that names none. */
export const DEFAULT_MATCH_COUNT = 10

/**
 * `hnsw.ef_search` of a `match-items` request that names none: the smallest that finds 95% of
 * the true 10 nearest on the benchmark's default dataset (100,000 x 384: recall@10 0.96, where
 * pgvector's default of 40 finds 0.87; bench/README.md).
 */
export const DEFAULT_EF_SEARCH = 100

/** Largest request body, in bytes, a function reads; a larger one is answered 413. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024

/** pgvector's largest `vector` dimension count. */
export const MAX_VECTOR_DIMENSIONS = 16_000

/** pgvector stores `vector` elements as float4: a larger magnitude would overflow to infinity. */
export const FLOAT4_MAX = 3.4028234663852886e38

/** The names the functions are deployed under, as in `supabase/functions/<name>`. */
export const FUNCTION_NAMES = { items: 'items', matchItems: 'match-items' } as const

/**
 * One embedding: finite numbers that fit pgvector's float4 elements. Checked where it stands
 * rather than copied (as `z.array` would), so that it keeps the JSON text it was parsed from
 * and goes into SQL as the client wrote it (number-text.ts): printing 384 numbers again costs
 * more than the rest of a search's checks.
 */
export const Embedding = z
  .custom<number[]>(() => true)
  .superRefine((value, context) => {
    const fail = (message: string, path: number[] = []) =>
      context.addIssue({ code: 'custom', message, path, input: value })
    if (!Array.isArray(value)) return fail('expected an array of numbers')
    if (value.length < 1) return fail('expected at least 1 dimension')
    if (value.length > MAX_VECTOR_DIMENSIONS)
      return fail(`expected at most ${MAX_VECTOR_DIMENSIONS} dimensions`)
    for (let index = 0; index < value.length; index++) {
      const element: unknown = value[index]
      if (typeof element !== 'number' || !Number.isFinite(element))
        return fail('expected a finite number', [index])
      if (element > FLOAT4_MAX || element < -FLOAT4_MAX)
        return fail('out of range for a float4 vector element', [index])
    }
  })

/** Body of `POST /functions/v1/items`. */
export const InsertItemsRequest = z.strictObject({
  items: z
    .array(z.strictObject({ embedding: Embedding }))
    .min(1, { error: 'expected at least 1 item' })
    .max(MAX_INSERT_BATCH, { error: `expected at most ${MAX_INSERT_BATCH} items` }),
})

/** Answer of `POST /functions/v1/items` (201): the new ids, in the order of the input. */
export const InsertItemsResponse = z.strictObject({ ids: z.array(z.number().int()) })

/** Body of `POST /functions/v1/match-items`. */
export const MatchItemsRequest = z.strictObject({
  embedding: Embedding,
  count: z
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(1, { error: 'expected at least 1' })
    .max(MAX_MATCH_COUNT, { error: `expected at most ${MAX_MATCH_COUNT}` })
    .default(DEFAULT_MATCH_COUNT),
  /**
   * `hnsw.ef_search` for this search (default `DEFAULT_EF_SEARCH`, 100): higher finds more of
   * the true nearest neighbours, more slowly.
   */
  efSearch: integerIn(EF_SEARCH_RANGE.min, EF_SEARCH_RANGE.max).optional(),
})

/** Most embeddings one `match-items` batch may carry. */
export const MAX_MATCH_BATCH = 100

/**
 * Body of `POST /functions/v1/match-items` with several searches: `{"embeddings":[[…],…],
 * "count":k}`, answered `{"results":[{"matches":[…]},…]}` in order, in one transaction.
 */
export const MatchItemsBatchRequest = z.strictObject({
  embeddings: z
    .array(Embedding, { error: 'expected an array of embeddings' })
    .min(1, { error: 'expected at least 1 embedding' })
    .max(MAX_MATCH_BATCH, { error: `expected at most ${MAX_MATCH_BATCH} embeddings` }),
  count: MatchItemsRequest.shape.count,
  efSearch: MatchItemsRequest.shape.efSearch,
})

/** What `match-items` takes: one embedding, or a batch when the body has `embeddings`. */
export const MatchItemsRouteRequest = singleOrBatch(
  'embeddings',
  MatchItemsRequest,
  MatchItemsBatchRequest,
)

/** One result of a search: the stored item and its cosine distance to the query. */
export const Match = z.strictObject({
  id: z.number().int(),
  embedding: z.array(z.number()),
  distance: z.number(),
})

/** Answer of `POST /functions/v1/match-items` (200): nearest first. */
export const MatchItemsResponse = z.strictObject({ matches: z.array(Match) })

/** Body of every error answer. */
export const ErrorBody = z.object({
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
})

export type InsertItemsRequest = z.input<typeof InsertItemsRequest>
export type InsertItemsResponse = z.output<typeof InsertItemsResponse>
export type MatchItemsRequest = z.input<typeof MatchItemsRequest>
export type MatchItemsBatchRequest = z.input<typeof MatchItemsBatchRequest>
export type MatchItemsResponse = z.output<typeof MatchItemsResponse>
export type Match = z.output<typeof Match>
export type ErrorBody = z.output<typeof ErrorBody>

/**
 * Says where and what the problem of a failed parse is, as `path: message`, in Matchbox's words,
 * so that a caller can find the offending value in a large body. An unknown key is named first:
 * it usually explains a "missing" one (`embeddings` sent for `embedding`).
 *
 * @example
 * describeIssue(InsertItemsRequest.safeParse({ items: [{ embedding: ['x'] }] }).error!)
 * // 'items.0.embedding.0: expected a finite number'
 * describeIssue(InsertItemsRequest.safeParse({ items: [{ embeddings: [1, 2, 3] }] }).error!)
 * // 'items.0: unknown key "embeddings"'
 * describeIssue(InsertItemsRequest.safeParse([[1, 2, 3]]).error!)
 * // 'body: expected a JSON object, not an array'
 */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]
  if (!issue) return 'invalid request'
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ')
    return `${path || 'body'}: unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`
  }
  // Our schemas word their own messages; zod's defaults ("Invalid input: …") are reworded.
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) {
    return path ? `${path}: ${issue.message}` : issue.message
  }
  return `${path || 'body'}: ${rewordIssue(issue)}`
}

/** How zod's English messages begin; ours are lowercase. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (big|small)|Unrecognized)\b/

const NOUNS: Readonly<Record<string, string>> = {
  object: 'a JSON object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  null: 'null',
  undefined: 'nothing',
  bigint: 'an integer',
  nan: 'a number',
}

function noun(type: string): string {
  return NOUNS[type.toLowerCase()] ?? type
}

function rewordIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const received = /received (\w+)/.exec(issue.message)?.[1]
      const expected = noun(issue.expected)
      if (received === 'undefined') return `missing: expected ${expected}`
      return received ? `expected ${expected}, not ${noun(received)}` : `expected ${expected}`
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
      const word = issue.code === 'too_small' ? 'at least' : 'at most'
      const unit =
        issue.origin === 'array' || issue.origin === 'set'
          ? ' element'
          : issue.origin === 'string'
            ? ' character'
            : ''
      const plural = unit && Number(bound) !== 1 ? 's' : ''
      return `expected ${word} ${bound}${unit}${plural}`
    }
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`.replace(
        /, ([^,]*)$/,
        ' or $1',
      )
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? 'a string of the right form' : `a valid ${issue.format}`}`
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`
    case 'invalid_union':
      return 'matches none of the accepted forms'
    case 'invalid_key':
      return 'invalid key'
    default:
      return 'invalid value'
  }
}
