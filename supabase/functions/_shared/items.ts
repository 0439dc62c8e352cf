/**
 * The work of the `items` and `match-items` functions, as plain functions of validated input
 * and caller, so that they read the same whatever serves them.
 */
import type { Caller } from './auth.ts'
import type { z } from 'zod'
import type { InsertItemsRequest, Match, MatchItemsRequest } from './contract.ts'
import { asCaller, parseVector, vectorDimensions, vectorLiteral } from './db.ts'
import { HttpError } from './http.ts'

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

/** The `count` items nearest to the embedding by cosine distance, through `match_items`. */
export async function matchItems(
  input: z.output<typeof MatchItemsRequest>,
  caller: Caller,
): Promise<{ matches: Match[] }> {
  const dimensions = await vectorDimensions(ITEMS_TABLE, EMBEDDING_COLUMN)
  checkDimensions(input.embedding, dimensions)
  const rows = await asCaller(
    caller,
    (tx) => tx`
    select id, embedding::text as embedding, distance
    from public.match_items(${vectorLiteral(input.embedding)}::extensions.vector, ${input.count})`,
  )
  return {
    matches: rows.map((row) => ({
      id: Number(row.id),
      embedding: parseVector(row.embedding),
      distance: row.distance,
    })),
  }
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
