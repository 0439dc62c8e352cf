/**
 * The `vectors` routes that read and write records: upsert, fetch, delete and describe, each
 * one transaction as the caller.
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { asCaller } from '../_shared/db.ts'
import { fromVectorText, toVectorText } from '../_shared/vector-values.ts'
import type {
  CollectionDescription,
  DeleteRequest,
  FetchRequest,
  UpsertRequest,
  VectorRecord,
} from '../_shared/vectors-contract.ts'
import type { Collection } from './catalog.ts'
import { compileFilter, SqlParams } from './filter.ts'

/** Stores records, replacing those with the same id; one statement, all or nothing. */
export async function upsertRecords(
  collection: Collection,
  input: z.output<typeof UpsertRequest>,
  caller: Caller,
): Promise<{ upserted: number }> {
  const ids: string[] = []
  const vectors: string[] = []
  const metadata: string[] = []
  input.records.forEach((record, index) => {
    ids.push(record.id)
    vectors.push(toVectorText(collection, record.values, `records.${index}.values`))
    metadata.push(JSON.stringify(record.metadata ?? {}))
  })
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(
      `insert into ${collection.table} as c (id, embedding, metadata)
       select r.id, r.embedding::${collection.columnType}, r.metadata
       from unnest($1::text[], $2::text[], $3::text[]::jsonb[]) as r(id, embedding, metadata)
       on conflict (id) do update set embedding = excluded.embedding, metadata = excluded.metadata`,
      [ids, vectors, metadata],
    ),
  )
  return { upserted: result.count }
}

/** The records with these ids, in the order asked; missing ids are left out. */
export async function fetchRecords(
  collection: Collection,
  input: z.output<typeof FetchRequest>,
  caller: Caller,
): Promise<{ records: VectorRecord[] }> {
  const rows = await asCaller(caller, (tx) =>
    tx.unsafe(
      `select c.id, c.embedding::text as values, c.metadata from ${collection.table} as c where c.id = any($1::text[])`,
      [input.ids],
    ),
  )
  const byId = new Map(rows.map((row) => [row.id as string, row]))
  const records: VectorRecord[] = []
  for (const id of new Set(input.ids)) {
    const row = byId.get(id)
    if (row)
      records.push({
        id,
        values: fromVectorText(collection.type, row.values),
        metadata: row.metadata,
      })
  }
  return { records }
}

/** Deletes by ids or by a (non-empty) filter; answers how many rows went. */
export async function deleteRecords(
  collection: Collection,
  input: z.output<typeof DeleteRequest>,
  caller: Caller,
): Promise<{ deleted: number }> {
  const params = new SqlParams()
  const condition =
    'ids' in input
      ? `c.id = any(${params.add(input.ids, 'text[]')})`
      : compileFilter(input.filter, 'c.metadata', params)
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(`delete from ${collection.table} as c where ${condition}`, params.values as never[]),
  )
  return { deleted: result.count }
}

/** The collection's shape and its row count as the caller sees it. */
export async function describeCollection(
  collection: Collection,
  caller: Caller,
): Promise<CollectionDescription> {
  const [row] = await asCaller(caller, (tx) =>
    tx.unsafe(`select count(*)::bigint as count from ${collection.table}`),
  )
  return {
    name: collection.name,
    dimensions: collection.dimensions,
    type: collection.type,
    metric: collection.metric,
    index: collection.index,
    count: Number(row!.count),
  }
}
