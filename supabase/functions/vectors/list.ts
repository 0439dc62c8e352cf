/**
 * The `vectors` list route: a collection's ids in order, a page at a time, by keyset (the
 * last id of a page is where the next starts, never an offset). A page reads the table as it
 * is then, so an id present during the whole listing comes exactly once, whatever is added or
 * deleted between pages.
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { asCaller } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { type ListRequest, type ListResponse, RecordId } from '../_shared/vectors-contract.ts'
import { authorize, type Scope, scopeCondition, whereClause } from './access.ts'
import type { Collection } from './catalog.ts'
import { compileFilter, SqlParams } from './filter.ts'

/** One page of ids, and the cursor of the next (null after the last). */
export async function listRecords(
  collection: Collection,
  input: z.output<typeof ListRequest>,
  caller: Caller,
): Promise<ListResponse> {
  const scope = authorize(collection, caller, 'read')
  const listing = await listingKey(collection, scope, input)
  const after = input.cursor ? readCursor(input.cursor, listing) : undefined
  const params = new SqlParams()
  const where = whereClause(
    scopeCondition(scope, params),
    input.prefix !== undefined
      ? `starts_with(c.id, ${params.add(input.prefix, 'text')})`
      : undefined,
    input.filter ? compileFilter(input.filter, 'c.metadata', params, collection.fields) : undefined,
    after !== undefined ? `c.id > ${params.add(after, 'text')}` : undefined,
  )
  // One more than the page: whether there is a next page, without a second query.
  const limit = params.add(input.limit + 1, 'int')
  const rows = await asCaller(
    caller,
    (tx) =>
      tx.unsafe(
        `select c.id from ${collection.table} as c ${where} order by c.id limit ${limit}`,
        params.values as never[],
      ),
    { readOnly: true },
  )
  const ids = rows.slice(0, input.limit).map((row) => row.id as string)
  const nextCursor = rows.length > input.limit ? makeCursor(ids[ids.length - 1]!, listing) : null
  return { ids, nextCursor }
}

/** Cursor format version: a change of format makes old cursors malformed, not misread. */
const VERSION = 1

/**
 * What a cursor belongs to: the collection, the caller's rows (role, user, tenant), the filter
 * and the prefix, hashed. A cursor carried to another listing is refused rather than give a
 * page that starts at an id that listing never reached.
 */
async function listingKey(
  collection: Collection,
  scope: Scope,
  input: z.output<typeof ListRequest>,
): Promise<string> {
  const text = JSON.stringify([
    collection.name,
    scope.kind,
    scope.kind === 'all' ? null : scope.value,
    input.filter ?? null,
    input.prefix ?? null,
  ])
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return base64url(new Uint8Array(digest).slice(0, 12))
}

/** `{v, after, listing}` as base64url JSON: opaque to callers, checked when it comes back. */
function makeCursor(after: string, listing: string): string {
  return base64url(new TextEncoder().encode(JSON.stringify({ v: VERSION, after, listing })))
}

/**
 * The id a cursor continues after.
 *
 * @throws HttpError 400 for a cursor this function did not make, or made for another listing.
 */
function readCursor(cursor: string, listing: string): string {
  let fields: unknown
  try {
    fields = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(cursor)))
  } catch {
    throw badCursor('malformed: pass the nextCursor of the page before, as it came')
  }
  const { v, after, listing: belongsTo } = (fields ?? {}) as Record<string, unknown>
  if (
    typeof fields !== 'object' ||
    Array.isArray(fields) ||
    Object.keys(fields as object).length !== 3 ||
    v !== VERSION ||
    typeof belongsTo !== 'string' ||
    !RecordId.safeParse(after).success
  ) {
    throw badCursor('malformed: pass the nextCursor of the page before, as it came')
  }
  if (belongsTo !== listing) {
    throw badCursor(
      'made for another listing (collection, caller, filter or prefix): send the same ones, or start without a cursor',
    )
  }
  return after as string
}

function badCursor(why: string): HttpError {
  return new HttpError(400, 'invalid_request', `cursor: ${why}`)
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url')
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}
