/**
 * The `vectors` routes that read and write records by id or filter: upsert, fetch, delete,
 * update, count and describe, each one transaction as the caller, each statement limited to
 * the rows the caller's scope names (access.ts) as the policies are.
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { errorCode } from '../_shared/database-errors.ts'
import { asCaller } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { JsonText } from '../_shared/json-text.ts'
import { toVectorText, vectorJson } from '../_shared/vector-values.ts'
import type {
  CollectionDescription,
  CountRequest,
  DeleteRequest,
  FetchRequest,
  UpdateRequest,
  UpsertRecord,
  UpsertRequest,
  VectorRecord,
} from '../_shared/vectors-contract.ts'
import { authorize, ownershipColumn, scopeCondition, whereClause } from './access.ts'
import type { Collection } from './catalog.ts'
import { compileFilter, SqlParams } from './filter.ts'

/** A record as fetch holds it: values and metadata as the JSON text the database wrote. */
type ServedRecord = Omit<VectorRecord, 'values' | 'metadata'> & {
  values: JsonText
  metadata: JsonText
}

/**
 * Stores records, replacing those with the same id; one statement, all or nothing.
 *
 * In owner and tenant collections, service_role names each record's owner or tenant
 * (`owner_id`, `tenant_id`) and may move a record to another; a user's records take theirs
 * from the token, and a user may not name one. Ids are unique across the collection: a
 * user's upsert of an id another user holds is refused (403) as a whole, and changes nothing.
 */
export async function upsertRecords(
  collection: Collection,
  input: z.output<typeof UpsertRequest>,
  caller: Caller,
): Promise<{ upserted: number }> {
  const scope = authorize(collection, caller, 'write')
  const owned = collection.access === 'public' ? undefined : ownedColumn(collection)
  const ids: string[] = []
  const vectors: (string | null)[] = []
  const metadata: string[] = []
  const owners: string[] = []
  const texts: (string | null)[] = []
  input.records.forEach((record, index) => {
    const owner = recordOwner(collection, caller, record, index)
    if (record.text != null) requireText(collection, `records.${index}.text`)
    texts.push(record.text ?? null)
    ids.push(record.id)
    vectors.push(recordVector(collection, record, index))
    metadata.push(JSON.stringify(record.metadata ?? {}))
    if (owner !== undefined) owners.push(owner)
  })
  // service_role names the owner; a user's rows get it from the column's default (the token).
  const setsOwner = owned !== undefined && scope.kind === 'all'
  // A text collection's records replace their text too (none given: none kept).
  const text = collection.textLanguage !== null
  const columns = [
    'id',
    'embedding',
    'metadata',
    ...(setsOwner ? [owned] : []),
    ...(text ? ['content'] : []),
  ]
  const sources = [
    'r.id',
    `r.embedding::${collection.columnType}`,
    'r.metadata',
    ...(setsOwner ? [`r.owner::${owned === 'owner_id' ? 'uuid' : 'text'}`] : []),
    ...(text ? ['r.content'] : []),
  ]
  const result = await asCaller(caller, async (tx) => {
    try {
      return await tx.unsafe(
        `insert into ${collection.table} as c (${columns.join(', ')})
         select ${sources.join(', ')}
         from unnest($1::text[], $2::text[], $3::text[]::jsonb[], $4::text[]${text ? ', $5::text[]' : ''})
           with ordinality as r(id, embedding, metadata, owner, ${text ? 'content, ' : ''}n)
         order by r.n
         on conflict (id) do update set ${columns
           .slice(1)
           .map((column) => `${column} = excluded.${column}`)
           .join(', ')}`,
        [
          ids,
          vectors,
          metadata,
          setsOwner ? owners : ids.map(() => null),
          ...(text ? [texts] : []),
        ],
      )
    } catch (error) {
      // On a conflict, Postgres checks the existing row against the update policy and raises
      // this (42501) rather than skip it: the id is held by a row the caller may not see.
      if (scope.kind !== 'all' && errorCode(error) === '42501') throw idTaken(collection)
      throw error
    }
  })
  return { upserted: result.count }
}

/** The column that names a record's owner or tenant, in an owner or tenant collection. */
function ownedColumn(collection: Collection): 'owner_id' | 'tenant_id' {
  return collection.access === 'owner' ? 'owner_id' : 'tenant_id'
}

/**
 * The owner or tenant a record names, checked against who may name it: service_role must (it
 * acts for no user), a user may not, and no record of a public collection has one.
 */
function recordOwner(
  collection: Collection,
  caller: Caller,
  record: z.output<typeof UpsertRecord>,
  index: number,
): string | undefined {
  const wanted = collection.access === 'public' ? undefined : ownedColumn(collection)
  for (const field of ['owner_id', 'tenant_id'] as const) {
    if (record[field] === undefined || field === wanted) continue
    throw new HttpError(
      400,
      'invalid_request',
      `records.${index}.${field}: "${collection.name}" is ${collection.access === 'public' ? 'a public collection: its records have no owner or tenant' : `per ${collection.access}: use ${wanted}`}`,
    )
  }
  if (wanted === undefined) return undefined
  const value = record[wanted]
  if (caller.role === 'service_role') {
    if (value === undefined) {
      throw new HttpError(
        400,
        'invalid_request',
        `records.${index}.${wanted}: required from service_role, whose key acts for no user`,
      )
    }
    return value
  }
  if (value !== undefined) {
    throw new HttpError(
      403,
      'forbidden',
      `records.${index}.${wanted}: only service_role sets it; a user's records are their ${collection.access === 'owner' ? 'own' : "tenant's"}`,
    )
  }
  return undefined
}

/** Refuses text for a collection made without `--text`, saying how to make one with it. */
function requireText(collection: Collection, path: string): void {
  if (collection.textLanguage !== null) return
  throw new HttpError(
    400,
    'invalid_request',
    `${path}: "${collection.name}" keeps no text: make a text collection with \`collection:new ${collection.name} … --text\``,
  )
}

function idTaken(collection: Collection): HttpError {
  return new HttpError(
    403,
    'forbidden',
    `records: an id in this batch is taken by a record you cannot write; ids are unique across "${collection.name}": choose others (e.g. prefixed with your user id)`,
  )
}

/** The records with these ids, in the order asked; missing ids are left out. */
export async function fetchRecords(
  collection: Collection,
  input: z.output<typeof FetchRequest>,
  caller: Caller,
): Promise<{ records: ServedRecord[] }> {
  const scope = authorize(collection, caller, 'read')
  if (input.includeText) requireText(collection, 'includeText')
  const owner = ownershipColumn(collection, caller)
  const params = new SqlParams()
  const where = whereClause(
    `c.id = any(${params.add(input.ids, 'text[]')})`,
    scopeCondition(scope, params),
  )
  const rows = await asCaller(
    caller,
    (tx) =>
      tx.unsafe(
        `select c.id, c.embedding::text as values, c.metadata::text as metadata${owner ? `, c.${owner}::text as owner` : ''}${input.includeText ? ', c.content as text' : ''}
       from ${collection.table} as c ${where}`,
        params.values as never[],
      ),
    { readOnly: true },
  )
  const byId = new Map(rows.map((row) => [row.id as string, row]))
  const records: ServedRecord[] = []
  for (const id of new Set(input.ids)) {
    const row = byId.get(id)
    if (!row) continue
    const record: ServedRecord = {
      id,
      values: vectorJson(collection.type, row.values),
      metadata: new JsonText(row.metadata),
    }
    if (owner) record[owner] = row.owner
    if (input.includeText) record.text = row.text
    records.push(record)
  }
  return { records }
}

/** Deletes by ids or by a (non-empty) filter; answers how many rows went. */
export async function deleteRecords(
  collection: Collection,
  input: z.output<typeof DeleteRequest>,
  caller: Caller,
): Promise<{ deleted: number }> {
  const scope = authorize(collection, caller, 'write')
  const params = new SqlParams()
  const condition =
    'ids' in input
      ? `c.id = any(${params.add(input.ids, 'text[]')})`
      : compileFilter(input.filter, 'c.metadata', params, collection.fields)
  const where = whereClause(condition, scopeCondition(scope, params))
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(`delete from ${collection.table} as c ${where}`, params.values as never[]),
  )
  return { deleted: result.count }
}

/**
 * Changes the metadata (merged into the stored object's top level, or replacing it) and, by
 * id, the values of records, without resending what stays. Answers how many changed: 0 for
 * an id that does not exist or is not the caller's, alike.
 */
export async function updateRecords(
  collection: Collection,
  input: z.output<typeof UpdateRequest>,
  caller: Caller,
): Promise<{ updated: number }> {
  const scope = authorize(collection, caller, 'write')
  const params = new SqlParams()
  const assignments: string[] = []
  if (input.metadata !== undefined) {
    const metadata = params.add(JSON.stringify(input.metadata), 'jsonb')
    assignments.push(
      `metadata = ${input.mode === 'merge' ? `c.metadata || ${metadata}` : metadata}`,
    )
  }
  if (input.values !== undefined) {
    const vector = toVectorText(collection, input.values, 'values')
    assignments.push(`embedding = ${params.add(vector, collection.columnType)}`)
  }
  if (input.text !== undefined) {
    requireText(collection, 'text')
    assignments.push(`content = ${params.add(input.text, 'text')}`)
  }
  const condition =
    input.id !== undefined
      ? `c.id = ${params.add(input.id, 'text')}`
      : compileFilter(input.filter, 'c.metadata', params, collection.fields)
  const where = whereClause(condition, scopeCondition(scope, params))
  const result = await asCaller(caller, (tx) =>
    tx.unsafe(
      `update ${collection.table} as c set ${assignments.join(', ')} ${where}`,
      params.values as never[],
    ),
  )
  return { updated: result.count }
}

/** How many records the caller sees, or how many of them a filter matches: exact. */
export async function countRecords(
  collection: Collection,
  input: z.output<typeof CountRequest>,
  caller: Caller,
): Promise<{ count: number }> {
  const scope = authorize(collection, caller, 'read')
  const params = new SqlParams()
  const where = whereClause(
    input.filter ? compileFilter(input.filter, 'c.metadata', params, collection.fields) : undefined,
    scopeCondition(scope, params),
  )
  const [row] = await asCaller(
    caller,
    (tx) =>
      tx.unsafe(
        `select count(*)::bigint as count from ${collection.table} as c ${where}`,
        params.values as never[],
      ),
    { readOnly: true },
  )
  return { count: Number(row!.count) }
}

/**
 * The collection's shape, access mode and estimated size. The estimate comes from the
 * statistics (the live row count the database keeps, else the last analyze's): no scan, so
 * describe costs the same at any size. `count` gives the exact number.
 */
export async function describeCollection(
  collection: Collection,
  caller: Caller,
): Promise<CollectionDescription> {
  const scope = authorize(collection, caller, 'read')
  // A user of an owner or tenant collection sees a part of it: the whole is not theirs to know.
  const estimate =
    scope.kind === 'all'
      ? await asCaller(
          caller,
          (tx) =>
            tx.unsafe(
              `select coalesce(nullif(s.n_live_tup, 0), nullif(greatest(c.reltuples, -1), -1)::bigint, 0)::bigint as estimate
             from pg_catalog.pg_class c
             left join pg_catalog.pg_stat_user_tables s on s.relid = c.oid
             where c.oid = $1::regclass`,
              [collection.table],
            ),
          { readOnly: true },
        )
      : undefined
  const value = estimate?.[0]?.estimate
  return {
    name: collection.name,
    dimensions: collection.dimensions,
    type: collection.type,
    metric: collection.metric,
    index: collection.index,
    access: collection.access,
    fields: collection.fields,
    estimatedCount: value === null || value === undefined ? null : Number(value),
  }
}

/**
 * A record's vector in pgvector's text form, or null for a text collection's record that has
 * a text and no vector (it is found by keyword queries only).
 */
function recordVector(
  collection: Collection,
  record: z.output<typeof UpsertRequest>['records'][number],
  index: number,
): string | null {
  if (record.values !== undefined) {
    return toVectorText(collection, record.values, `records.${index}.values`)
  }
  if (collection.textLanguage !== null && record.text != null) return null
  throw new HttpError(
    400,
    'invalid_request',
    collection.textLanguage !== null
      ? `records.${index}.values: required unless the record has a text`
      : `records.${index}.values: required`,
  )
}
