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
  type MatchItemsRequest,
} from './contract.ts'
import { asCaller, queryAsCaller, vectorDimensions, vectorLiteral } from './db.ts'
import { HttpError, JsonText } from './http.ts'

const ITEMS_TABLE = 'public.items'
const EMBEDDING_COLUMN = 'embedding'

/** Inserts the items in one statement, all or nothing; answers their ids in input order. */
export async function insertItems(
  input: z.output<typeof InsertItemsRequest>,
  caller: Caller,
): Promise<{ ids: number[] }> {
  const dimensions = await vectorDimensions(ITEMS_TABLE, EMBEDDING_COLUMN)
  for (const item of input.items) checkDimensions(item.embedding, dimensions)
  const literals = input.items.map((item) => vectorLiteral(item.embedding))
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
 * The statement of `public.match_items` (supabase/migrations), run directly: the same rows in
 * the same order, as the caller, under the same row-level security. PostgreSQL before 18
 * cannot inline a function with `SET` clauses (the migration needs them: a pinned search_path
 * and the iterative scan), and runs its body afresh on every call, which measured twice the
 * database CPU of the bare statement per search (bench/README.md). The function stays for
 * RPC callers; its settings are set here for the transaction instead.
 */
const MATCH_STATEMENT = `
  select items.id, items.embedding::text as embedding,
    items.embedding operator(extensions.<=>) $1::extensions.vector as distance
  from public.items
  order by items.embedding operator(extensions.<=>) $1::extensions.vector
  limit $2`

/**
 * The `count` items nearest to the embedding by cosine distance, as `match_items` finds them,
 * with the request's `hnsw.ef_search` or `DEFAULT_EF_SEARCH` (for this transaction only).
 *
 * Answers the `MatchItemsResponse` already serialized: pgvector's text form of a vector is a
 * JSON array, so the embeddings go out as the database wrote them instead of being parsed
 * into numbers and printed again (a third of the function's CPU for 384 dimensions).
 */
export async function matchItems(
  input: z.output<typeof MatchItemsRequest>,
  caller: Caller,
): Promise<JsonText> {
  const dimensions = await vectorDimensions(ITEMS_TABLE, EMBEDDING_COLUMN)
  checkDimensions(input.embedding, dimensions)
  // As match_items: counts above ef_search still come back whole and in exact order.
  const settings: Record<string, string> = { 'hnsw.iterative_scan': 'strict_order' }
  settings['hnsw.ef_search'] = String(input.efSearch ?? DEFAULT_EF_SEARCH)
  const rows = await queryAsCaller(
    caller,
    (sql) =>
      sql.unsafe<{ id: string; embedding: string; distance: number }[]>(
        MATCH_STATEMENT,
        [vectorLiteral(input.embedding), Math.min(input.count, MAX_MATCH_COUNT)],
        { prepare: true },
      ),
    settings,
  )
  const matches = rows.map(
    (row) =>
      `{"id":${JSON.stringify(Number(row.id))},"embedding":${row.embedding},"distance":${JSON.stringify(row.distance)}}`,
  )
  return new JsonText(`{"matches":[${matches.join(',')}]}`)
}

function checkDimensions(embedding: readonly number[], dimensions: number): void {
  if (embedding.length !== dimensions) {
    // pgvector's own words, so callers see one message whichever layer refuses.
    throw new HttpError(
      400,
      'dimension_mismatch',
      `expected ${dimensions} dimensions, not ${embedding.length}`,
    )
  }
}
