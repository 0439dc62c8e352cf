/**
 * The work of the `items` and `match-items` functions, as plain functions of validated input
 * and caller, so that they read the same whatever serves them.
 */
import type { Caller } from './auth.ts'
import type { z } from 'zod'
import {
  DEFAULT_EF_SEARCH,
  type InsertItemsRequest,
  MAX_MATCH_COUNT,
  type MatchItemsRouteRequest,
} from './contract.ts'
import { asCaller, queryAsCaller, vectorDimensions } from './db.ts'
import { HttpError } from './errors.ts'
import { JsonText } from './json-text.ts'
import { toVectorText } from './vector-values.ts'

const ITEMS_TABLE = 'public.items'
const EMBEDDING_COLUMN = 'embedding'

/** Inserts the items in one statement, all or nothing; answers their ids in input order. */
export async function insertItems(
  input: z.output<typeof InsertItemsRequest>,
  caller: Caller,
): Promise<{ ids: number[] }> {
  const dimensions = await checkDimensions(input.items.map((item) => item.embedding))
  const literals = input.items.map((item, index) =>
    toVectorText(itemsShape(dimensions), item.embedding, `items.${index}.embedding`),
  )
  const rows = await asCaller(
    caller,
    (tx) => tx`
    with input as (
      select embedding, ord
      from unnest(${literals}::text[]::extensions.vector[]) with ordinality as t(embedding, ord)
    ), inserted as (
      insert into public.items (embedding)
      select embedding from input order by ord
      returning id
    )
    select id from inserted order by id`,
  )
  // Identity values are drawn in insertion order, which is input order: sorted ids are the
  // input's ids in turn.
  return { ids: rows.map((row) => Number(row.id)) }
}

/**
 * The search goes through `public.match_items`, the one definition of it (supabase/migrations):
 * its ordering, its cap and its iterative scan are the migration's, for RPC callers and this
 * function alike. Measured against the bare statement in the same run, calling it costs
 * nothing that shows (bench/results: the `rpc` and `sql` rows).
 */
const MATCH_STATEMENT = `
  select id, embedding::text as embedding, distance
  from public.match_items($1::extensions.vector, $2)`

/**
 * The `count` items nearest to the embedding by cosine distance, through `match_items`, with
 * the request's `hnsw.ef_search` or `DEFAULT_EF_SEARCH` (for this transaction only).
 *
 * Answers the `MatchItemsResponse` already serialized: pgvector's text form of a vector is a
 * JSON array, so the embeddings go out as the database wrote them instead of being parsed
 * into numbers and printed again (a third of the function's CPU for 384 dimensions).
 */
export async function matchItems(
  input: z.output<typeof MatchItemsRouteRequest>,
  caller: Caller,
): Promise<JsonText> {
  const batch = 'embeddings' in input
  const embeddings = batch ? input.embeddings : [input.embedding]
  const dimensions = await checkDimensions(embeddings)
  const queries = embeddings.map((embedding, index) =>
    toVectorText(itemsShape(dimensions), embedding, batch ? `embeddings.${index}` : 'embedding'),
  )
  const settings = { 'hnsw.ef_search': String(input.efSearch ?? DEFAULT_EF_SEARCH) }
  const count = Math.min(input.count, MAX_MATCH_COUNT)
  const results = await queryAsCaller(
    caller,
    // A batch's statements go out together, in the same write: one round trip for all.
    (sql) =>
      Promise.all(
        queries.map((query) =>
          sql.unsafe<{ id: string; embedding: string; distance: number }[]>(
            MATCH_STATEMENT,
            [query, count],
            { prepare: true },
          ),
        ),
      ),
    settings,
    { readOnly: true }, // a search: it may run on a read replica
  )
  const answers = results.map((rows) => {
    const matches = rows.map(
      (row) =>
        `{"id":${JSON.stringify(Number(row.id))},"embedding":${row.embedding},"distance":${JSON.stringify(row.distance)}}`,
    )
    return `{"matches":[${matches.join(',')}]}`
  })
  return new JsonText(batch ? `{"results":[${answers.join(',')}]}` : answers[0]!)
}

/**
 * Refuses embeddings whose length is not the column's dimension count. When they do not fit,
 * the count is read again if it was read more than a second ago: the table may have been
 * altered to another dimension since (a migration pushed while the functions run).
 */
async function checkDimensions(embeddings: readonly (readonly number[])[]): Promise<number> {
  const fits = (dimensions: number) => embeddings.every((e) => e.length === dimensions)
  let dimensions = await vectorDimensions(ITEMS_TABLE, EMBEDDING_COLUMN)
  if (!fits(dimensions)) {
    // The count kept stands if the catalog cannot be read now: the caller's mistake is
    // still answered as one.
    const kept = dimensions
    dimensions = await vectorDimensions(ITEMS_TABLE, EMBEDDING_COLUMN, 1000).catch(() => kept)
  }
  const misfit = embeddings.find((e) => e.length !== dimensions)
  if (misfit) {
    // pgvector's own words, so callers see one message whichever layer refuses.
    throw new HttpError(
      400,
      'dimension_mismatch',
      `expected ${dimensions} dimensions, not ${misfit.length}`,
    )
  }
  return dimensions
}

/** The items column as `toVectorText` checks values against it: searched by cosine distance. */
function itemsShape(dimensions: number) {
  return { type: 'vector', dimensions, indexed: true, metric: 'cosine' } as const
}
