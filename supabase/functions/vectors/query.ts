/**
 * The `vectors` query route: the topK nearest records, with filters, index tuning and the
 * choice between an index walk and an exact scan.
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { asCaller, type Transaction } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { fromVectorText, toVectorText } from '../_shared/vector-values.ts'
import {
  EXACT_SCAN_THRESHOLD,
  type QueryMatch,
  type QueryRequest,
} from '../_shared/vectors-contract.ts'
import { authorize, ownershipColumn, type Scope, scopeCondition, whereClause } from './access.ts'
import type { Collection } from './catalog.ts'
import { compileFilter, SqlParams } from './filter.ts'

/** How a query ran, for callers that want to know (the playground, tests, benchmarks). */
export type ScanUsed = 'index' | 'exact'

/**
 * The topK records nearest to the query vector, nearest first, among those the filter lets
 * through. With a filter, pgvector's iterative index scan keeps walking the index until topK
 * rows pass it; when few rows match, an exact scan of them is taken instead; and when the
 * index walk still comes back short, the exact scan fills in, so a query returns topK rows
 * whenever at least topK rows match. A user of an owner or tenant collection is one more
 * filter, the same way (row-level security would otherwise drop rows after the index walk):
 * few visible rows are scanned exactly, found through the index on the owner or tenant.
 */
export async function queryCollection(
  collection: Collection,
  input: z.output<typeof QueryRequest>,
  caller: Caller,
): Promise<{ matches: QueryMatch[]; scan: ScanUsed; plan?: string[] }> {
  const scope = authorize(collection, caller, 'read')
  checkTuning(collection, input)
  if (input.explain && caller.role !== 'service_role') {
    throw new HttpError(403, 'forbidden', 'explain: needs the service_role key')
  }
  return await asCaller(caller, async (tx) => {
    const vector =
      input.vector !== undefined
        ? toVectorText(collection, input.vector, 'vector')
        : await storedVector(tx, collection, input.id!, scope)
    const params = new SqlParams()
    const query = params.add(vector, collection.columnType)
    const where = conditions(input, scope, params)
    await tuneIndexScan(tx, collection, input)

    let scan: ScanUsed = input.scan === 'exact' || !collection.indexed ? 'exact' : 'index'
    if (scan === 'index' && input.scan === 'auto' && where) {
      // Its own parameters: the count does not use the query vector.
      const countParams = new SqlParams()
      const [{ n }] = (await tx.unsafe(
        `select count(*)::int as n from (select 1 from ${collection.table} as c ${conditions(input, scope, countParams)} limit ${EXACT_SCAN_THRESHOLD}) as s`,
        countParams.values as never[],
      )) as unknown as [{ n: number }]
      if (n < EXACT_SCAN_THRESHOLD) scan = 'exact'
    }
    const limit = params.add(input.topK, 'int')
    const owner = ownershipColumn(collection, caller)
    const columns = [
      'c.id',
      `c.embedding ${collection.operator} ${query} as distance`,
      input.includeValues ? 'c.embedding::text as values' : '',
      input.includeMetadata ? 'c.metadata' : '',
      owner ? `c.${owner}::text as owner` : '',
    ].filter(Boolean)
    // Relaxed iterative scans may return rows slightly out of order: the outer query sorts.
    const sql = `select * from (
        select ${columns.join(', ')} from ${collection.table} as c ${where}
        order by c.embedding ${collection.operator} ${query} limit ${limit}
      ) as found order by found.distance`

    let rows = await runScan(tx, sql, params.values, scan)
    if (scan === 'index' && rows.length < input.topK && input.scan === 'auto') {
      scan = 'exact'
      rows = await runScan(tx, sql, params.values, scan)
    }
    // The plan of the statement that answered, under the same settings, when asked for.
    const plan = input.explain
      ? (await tx.unsafe(`explain ${sql}`, params.values as never[])).map((row) =>
          String(row['QUERY PLAN']),
        )
      : undefined
    const matches = rows.map((row) => {
      const match: QueryMatch = { id: row.id, distance: row.distance }
      if (input.includeValues) match.values = fromVectorText(collection.type, row.values)
      if (input.includeMetadata) match.metadata = row.metadata
      if (owner) match[owner] = row.owner
      return match
    })
    return plan ? { matches, scan, plan } : { matches, scan }
  })
}

/** The query's `where`: its filter and the caller's scope, with their values in `params`. */
function conditions(input: z.output<typeof QueryRequest>, scope: Scope, params: SqlParams): string {
  return whereClause(
    input.filter ? compileFilter(input.filter, 'c.metadata', params) : undefined,
    scopeCondition(scope, params),
  )
}

async function runScan(tx: Transaction, sql: string, values: unknown[], scan: ScanUsed) {
  // The scan is chosen, not left to the planner: an exact scan has index scans off (leaving a
  // sequential or GIN bitmap scan and a sort: exact whatever the vector index would say); an
  // index scan has the others off, so the vector index walks in distance order.
  const exact = scan === 'exact' ? 'off' : 'on'
  const other = scan === 'exact' ? 'on' : 'off'
  await tx`select set_config('enable_indexscan', ${exact}, true),
    set_config('enable_seqscan', ${other}, true), set_config('enable_bitmapscan', ${other}, true)`
  return await tx.unsafe(sql, values as never[])
}

function checkTuning(collection: Collection, input: z.output<typeof QueryRequest>): void {
  if (input.efSearch !== undefined && collection.index !== 'hnsw') {
    throw new HttpError(
      400,
      'invalid_request',
      `efSearch: applies to hnsw indexes; "${collection.name}" has ${collection.index ?? 'none'}: use probes`,
    )
  }
  if (input.probes !== undefined && collection.index !== 'ivfflat') {
    throw new HttpError(
      400,
      'invalid_request',
      `probes: applies to ivfflat indexes; "${collection.name}" has ${collection.index ?? 'none'}: use efSearch`,
    )
  }
}

/** Sets this transaction's index search knobs: the caller's, or sensible defaults. */
async function tuneIndexScan(
  tx: Transaction,
  collection: Collection,
  input: z.output<typeof QueryRequest>,
): Promise<void> {
  if (collection.index === 'hnsw') {
    const efSearch = String(input.efSearch ?? Math.max(40, input.topK))
    await tx`select set_config('hnsw.ef_search', ${efSearch}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`
  } else if (collection.index === 'ivfflat') {
    // pgvector's advice for a start: probes = sqrt(lists).
    const probes = String(
      input.probes ?? Math.max(1, Math.round(Math.sqrt(collection.lists ?? 100))),
    )
    await tx`select set_config('ivfflat.probes', ${probes}, true), set_config('ivfflat.iterative_scan', 'relaxed_order', true)`
  }
}

/**
 * The stored vector of record `id`, among those the caller sees: another user's record is not
 * found, in the same words as one that does not exist.
 */
async function storedVector(
  tx: Transaction,
  collection: Collection,
  id: string,
  scope: Scope,
): Promise<string> {
  const params = new SqlParams()
  const where = whereClause(`c.id = ${params.add(id, 'text')}`, scopeCondition(scope, params))
  const [row] = await tx.unsafe(
    `select c.embedding::text as values from ${collection.table} as c ${where}`,
    params.values as never[],
  )
  if (!row)
    throw new HttpError(
      404,
      'not_found',
      `record ${JSON.stringify(id)} not found in "${collection.name}"`,
    )
  return row.values
}
