/**
 * The `vectors` query route: the topK nearest records, with filters, index tuning and the
 * choice between an index walk and an exact scan — all in one statement, so that a search is
 * one round trip to the database (begin, settings, the statement and commit in one write).
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { embeddedDatabase, queryAsCaller } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { JsonText } from '../_shared/json-text.ts'
import { toVectorText, vectorJson } from '../_shared/vector-values.ts'
import {
  EXACT_SCAN_THRESHOLD,
  type QueryMatch,
  type QueryRequest,
} from '../_shared/vectors-contract.ts'
import { authorize, ownershipColumn, type Scope, scopeCondition, whereClause } from './access.ts'
import type { Collection } from './catalog.ts'
import { compileFilterPlan, filterUsesIndex, SqlParams } from './filter.ts'

/** How a query ran, for callers that want to know (the playground, tests, benchmarks). */
export type ScanUsed = 'index' | 'exact'

type Query = z.output<typeof QueryRequest>

/**
 * A match as the function holds it: values and metadata stay the JSON text the database
 * wrote, and go into the answer as they are.
 */
export type ServedMatch = Omit<QueryMatch, 'values' | 'metadata'> & {
  values?: JsonText
  metadata?: JsonText
}

/** One query's answer. */
export interface QueryResult {
  matches: ServedMatch[]
  scan: ScanUsed
  plan?: string[]
}

/**
 * The topK records nearest to the query vector, nearest first, among those the filter and the
 * caller's scope let through. With a filter, pgvector's iterative index scan keeps walking the
 * index until topK rows pass it; when fewer than `EXACT_SCAN_THRESHOLD` rows are visible, an
 * exact scan of them is taken instead; and when the walk still comes back short, the exact
 * scan fills in — so a query returns topK rows whenever at least topK rows match. The count
 * and the fill-in are parts of the one statement, gated so that only the part needed runs.
 */
export async function queryCollection(
  collection: Collection,
  input: Query,
  caller: Caller,
): Promise<QueryResult> {
  const [result] = await queryMany(collection, [input], caller)
  return result!
}

/**
 * Several queries in one transaction and one round trip: each query's settings and statement
 * are sent together, and the answers come back in order.
 */
export async function queryMany(
  collection: Collection,
  inputs: readonly Query[],
  caller: Caller,
): Promise<QueryResult[]> {
  const scope = authorize(collection, caller, 'read')
  const searches = inputs.map((input, index) => {
    const at = inputs.length > 1 ? `queries.${index}.` : ''
    checkTuning(collection, input, at)
    if (input.explain && caller.role !== 'service_role') {
      throw new HttpError(403, 'forbidden', `${at}explain: needs the service_role key`)
    }
    return buildSearch(collection, input, scope, caller, at)
  })
  // One search's settings go with the transaction's own (one statement fewer: behind a
  // transaction pooler, each unnamed statement is a round trip of its own); a batch's each
  // have a statement that sets them before the search.
  const single = searches.length === 1 ? searches[0] : undefined
  const answers = await queryAsCaller(
    caller,
    (sql) =>
      Promise.all(
        searches.map((search) =>
          // Sent together, in order: the settings, the statement and its checks. Awaited
          // together too, so that a failure is the first statement's, and none goes unhandled.
          Promise.all([
            single ? undefined : sql.unsafe(SET_SETTINGS, search.settings, { prepare: true }),
            sql.unsafe(search.sql, search.params as never[], { prepare: prepared(search.sql) }),
            search.target
              ? sql.unsafe(search.target.sql, search.target.params as never[], {
                  prepare: prepared(search.target.sql),
                })
              : undefined,
            search.explain
              ? sql.unsafe(`explain ${search.sql}`, search.params as never[])
              : undefined,
          ]).then(([, rows, target, plan]) => ({ rows, target, plan })),
        ),
      ),
    single ? settingsObject(single.settings) : {},
    { readOnly: true },
  )
  return answers.map((answer, index) => {
    const search = searches[index]!
    if (answer.target && answer.target.length === 0) {
      throw new HttpError(
        404,
        'not_found',
        `${search.at}record ${JSON.stringify(search.input.id)} not found in "${collection.name}"`,
      )
    }
    if (answer.target && answer.target[0]!.has_vector === false) {
      throw new HttpError(
        400,
        'invalid_request',
        `${search.at}id: record ${JSON.stringify(search.input.id)} has a text and no vector: query it by text`,
      )
    }
    return toResult(collection, search, answer.rows, answer.plan)
  })
}

/** Sets this transaction's knobs for the statement after it: names and values in turn. */
const SET_SETTINGS = `select ${Array.from(
  { length: 6 },
  (_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`,
).join(', ')}`

/** Most combinations of `$in` array keys a bitmap scan of the GIN index may walk. */
const MAX_ARRAY_KEYS = 2_000

/** Most statement texts a process keeps prepared (a filter's shape makes its own text). */
const MAX_PREPARED = 256
const preparedTexts = new Set<string>()

/**
 * Whether to send `text` as a named prepared statement: postgres.js describes an unnamed one
 * with parameters in a round trip of its own before it runs it, so a prepared search is one
 * round trip and an unnamed one two. Each text is kept on every connection, so only the first
 * `MAX_PREPARED` texts are (a client sending ever new filter shapes gets unnamed statements).
 */
function prepared(text: string): boolean {
  if (preparedTexts.has(text)) return true
  if (preparedTexts.size >= MAX_PREPARED) return false
  preparedTexts.add(text)
  return true
}

/** `[name, value, name, value, …]` as an object of settings. */
function settingsObject(flat: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) settings[flat[i]!] = flat[i + 1]!
  return settings
}

/** A query compiled to its statement and what it needs. */
interface Search {
  input: Query
  at: string
  sql: string
  params: unknown[]
  /** Six setting names and values, in turn, for `SET_SETTINGS`. */
  settings: string[]
  /** A query by id: a statement that finds the stored record (none: 404). */
  target?: { sql: string; params: unknown[] }
  explain: boolean
  owner: 'owner_id' | 'tenant_id' | undefined
}

function buildSearch(
  collection: Collection,
  input: Query,
  scope: Scope,
  caller: Caller,
  at: string,
): Search {
  const params = new SqlParams()
  const { table, operator } = collection
  let target: Search['target']
  let query: string
  if (input.vector !== undefined) {
    query = params.add(toVectorText(collection, input.vector, `${at}vector`), collection.columnType)
  } else {
    // The stored vector of a record the caller can see; another user's is not found, in the
    // same words as one that does not exist.
    const byId = new SqlParams()
    const where = whereClause(`c.id = ${byId.add(input.id, 'text')}`, scopeCondition(scope, byId))
    target = {
      sql: `select c.embedding is not null as has_vector from ${table} as c ${where}`,
      params: byId.values,
    }
    const id = params.add(input.id, 'text')
    query = `(select t.embedding from ${table} as t where t.id = ${id}${
      scope.kind === 'all' ? '' : ` and t.${scope.column} = ${params.add(scope.value, scope.cast)}`
    })`
  }
  const compiled = input.filter
    ? compileFilterPlan(input.filter, 'c.metadata', params, collection.fields)
    : undefined
  const filter = compiled?.sql
  // In a text collection, records with a text and no vector are for keyword queries only.
  const vectorsOnly = collection.textLanguage !== null ? 'c.embedding is not null' : undefined
  const conditions = [filter, scopeCondition(scope, params), vectorsOnly].filter(
    Boolean,
  ) as string[]
  const limit = params.add(input.topK, 'int')
  const owner = ownershipColumn(collection, caller)
  const columns = [
    'c.id',
    `c.embedding ${operator} ${query} as distance`,
    input.includeValues ? 'c.embedding::text as values' : '',
    input.includeMetadata ? 'c.metadata::text as metadata' : '',
    owner ? `c.${owner}::text as owner` : '',
  ].filter(Boolean)
  const from = (gate?: string) => `from ${table} as c ${whereClause(...conditions, gate)}`

  // The walk: ordered by the distance operator, which the vector index serves (relaxed
  // iterative scans may return rows slightly out of order: the outer query sorts).
  const walk = (gate?: string) =>
    `select ${columns.join(', ')} ${from(gate)} order by c.embedding ${operator} ${query} limit ${limit}`
  // The exact scan: the distance computed in a subquery the planner may not flatten, so that
  // no index can serve the order: every visible row is measured.
  const exact = (gate?: string) =>
    `select * from (select ${columns.join(', ')} ${from(gate)} offset 0) as e order by e.distance limit ${limit}`

  const mode: 'index' | 'exact' | 'auto' =
    input.scan === 'exact' || !collection.indexed ? 'exact' : input.scan
  let sql: string
  if (mode === 'exact') {
    sql = `select *, 'exact' as scan from (${exact()}) as found order by found.distance`
  } else if (mode === 'index') {
    sql = `select *, 'index' as scan from (${walk()}) as found order by found.distance`
  } else {
    // Each gate below has no column in it: Postgres evaluates it once and skips the part it
    // rules out, so that exactly one part answers.
    const short = `(select count(*) from walk) < ${limit}`
    const answer = (...parts: string[]) => `select * from (
        select *, 'index' as scan from walk where not ${short}
        union all
        ${parts.join('\n        union all\n        ')}
      ) as found order by found.distance`
    // Reading the visible rows first is worth it only where an index finds them (the owner
    // or tenant's btree, GIN containment, a declared field's btree): then, when fewer than
    // the threshold are visible, they are the exact answer's candidates already. A filter no
    // index serves would read the table: the walk goes first, and the fill-in if need be.
    const few =
      scope.kind !== 'all' ||
      (input.filter !== undefined && filterUsesIndex(input.filter, collection.fields))
    if (few) {
      const threshold = params.add(EXACT_SCAN_THRESHOLD, 'int')
      const many = `(select count(*) from candidates) >= ${threshold}`
      sql = `with candidates as materialized (select ${columns.join(', ')} ${from()} limit ${threshold}),
      walk as materialized (${walk(many)}),
      exact as (select * from candidates where not ${many} order by distance limit ${limit}),
      fill as (${exact(`${many} and ${short}`)})
      ${answer("select *, 'exact' as scan from exact", "select *, 'exact' as scan from fill")}`
    } else {
      sql = `with walk as materialized (${walk()}), fill as (${exact(short)})
      ${answer("select *, 'exact' as scan from fill")}`
    }
  }
  return {
    input,
    at,
    sql,
    params: params.values,
    settings: scanSettings(
      collection,
      input,
      mode,
      compiled?.arrayKeys ?? 1,
      filter !== undefined || scope.kind !== 'all',
    ),
    target,
    explain: input.explain,
    owner,
  }
}

/**
 * The transaction's knobs: the index's search breadth, iterative scans, and — when the walk
 * may run — sequential scans off, so that the vector index walks in distance order (a scan
 * turned off stays possible where nothing else can serve).
 */
function scanSettings(
  collection: Collection,
  input: Query,
  mode: string,
  arrayKeys: number,
  conditioned: boolean,
): string[] {
  // Bitmap scans stay on when the decision is the statement's: the visible rows and the
  // exact answer are found through GIN (bitmap only) or a btree; off, the planner would read
  // the whole table to find a hundred rows (measured: 280 ms against 5 ms at 100,000 rows).
  const settings: [string, string][] = [
    ['enable_seqscan', mode === 'exact' ? 'on' : 'off'],
    // Not when the filter's `$in` lists would make the GIN scan walk too many combinations
    // of array keys (three lists of 30 ran past the 15 s timeout on a 20-row table, measured),
    // nor on the embedded PGlite, which cannot cancel a statement: there, the table is read.
    [
      'enable_bitmapscan',
      mode !== 'index' && !embeddedDatabase() && arrayKeys <= MAX_ARRAY_KEYS ? 'on' : 'off',
    ],
  ]
  if (collection.index === 'ivfflat') {
    // pgvector's advice for a start: probes = sqrt(lists).
    const probes = input.probes ?? Math.max(1, Math.round(Math.sqrt(collection.lists ?? 100)))
    settings.push(['ivfflat.probes', String(probes)], ['ivfflat.iterative_scan', 'relaxed_order'])
  } else {
    const efSearch = input.efSearch ?? Math.max(40, input.topK)
    settings.push(['hnsw.ef_search', String(efSearch)], ['hnsw.iterative_scan', 'relaxed_order'])
  }
  // The scans turned off add a huge cost, which would make Postgres JIT-compile every search
  // (jit_above_cost): a second of compiling for a millisecond of work, measured.
  settings.push(['jit', 'off'])
  // A search is a named prepared statement: after five runs Postgres may keep a generic plan,
  // made without the filter's values, which for a filter matching 20% of the rows read all of
  // them through GIN and sorted (82 ms against 13, measured). Where a condition's values
  // decide the plan, each run is planned for its own (about 0.4 ms). Where none does, the one
  // plan there is is kept: left to itself Postgres re-planned every search, its generic plan
  // costing a hair more than a custom one (the vector's cast), at 0.35 to 0.5 ms a search.
  settings.push(['plan_cache_mode', conditioned ? 'force_custom_plan' : 'force_generic_plan'])
  return settings.flat()
}

function toResult(
  collection: Collection,
  search: Search,
  rows: readonly Record<string, unknown>[],
  plan: readonly Record<string, unknown>[] | undefined,
): QueryResult {
  const { input, owner } = search
  const matches = rows.map((row) => {
    const match: ServedMatch = { id: row.id as string, distance: row.distance as number }
    if (input.includeValues) match.values = vectorJson(collection.type, row.values as string | null)
    if (input.includeMetadata) match.metadata = new JsonText(row.metadata as string)
    if (owner) match[owner] = row.owner as string
    return match
  })
  const scan =
    (rows[0]?.scan as ScanUsed | undefined) ?? (search.input.scan === 'index' ? 'index' : 'exact')
  const result: QueryResult = { matches, scan }
  if (plan) result.plan = plan.map((row) => String(row['QUERY PLAN']))
  return result
}

function checkTuning(collection: Collection, input: Query, at: string): void {
  if (input.efSearch !== undefined && collection.index !== 'hnsw') {
    throw new HttpError(
      400,
      'invalid_request',
      `${at}efSearch: applies to hnsw indexes; "${collection.name}" has ${collection.index ?? 'none'}: use probes`,
    )
  }
  if (input.probes !== undefined && collection.index !== 'ivfflat') {
    throw new HttpError(
      400,
      'invalid_request',
      `${at}probes: applies to ivfflat indexes; "${collection.name}" has ${collection.index ?? 'none'}: use efSearch`,
    )
  }
}
