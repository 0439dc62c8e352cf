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
import { integerIn } from './vectors-contract.ts'

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

/** One embedding: finite numbers that fit pgvector's float4 elements. */
export const Embedding = z
  .array(
    z
      .number({ error: 'expected a finite number' })
      .min(-FLOAT4_MAX, { error: 'out of range for a float4 vector element' })
      .max(FLOAT4_MAX, { error: 'out of range for a float4 vector element' }),
    { error: 'expected an array of numbers' },
  )
  .min(1, { error: 'expected at least 1 dimension' })
  .max(MAX_VECTOR_DIMENSIONS, { error: `expected at most ${MAX_VECTOR_DIMENSIONS} dimensions` })

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
export type MatchItemsResponse = z.output<typeof MatchItemsResponse>
export type Match = z.output<typeof Match>
export type ErrorBody = z.output<typeof ErrorBody>

/**
 * Says where and what the first problem of a failed parse is, as `path: message`, so that a
 * caller can find the offending value in a large body.
 *
 * @example
 * describeIssue(InsertItemsRequest.safeParse({ items: [{ embedding: ['x'] }] }).error!)
 * // 'items.0.embedding.0: expected a finite number'
 */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid request'
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ')
    return `${path || 'body'}: unknown key ${keys}`
  }
  return path ? `${path}: ${issue.message}` : issue.message
}
