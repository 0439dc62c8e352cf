/**
 * Text queries on text collections (`collection:new --text`): keyword search, and hybrid
 * search that fuses the keyword and vector rankings by weighted reciprocal rank, as Supabase's
 * documented `hybrid_search` does. Each side ranks its best `candidates` rows among those the
 * filter and the caller's scope let through: the keyword side exactly (the GIN index finds
 * every row that matches, all are ranked), the vector side with query.ts's k-rows machinery.
 */
import type { z } from 'zod'
import type { Caller } from '../_shared/auth.ts'
import { queryAsCaller } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { JsonText } from '../_shared/json-text.ts'
import { vectorJson } from '../_shared/vector-values.ts'
import type { QueryRequest, TextMatch } from '../_shared/vectors-contract.ts'
import { authorize, ownershipColumn, type Scope, scopeCondition, whereClause } from './access.ts'
import type { Collection } from './catalog.ts'
import { compileFilter, SqlParams } from './filter.ts'
import { queryCollection } from './query.ts'
import { DEFAULT_FUSION, defaultCandidates, fuseRankings, MAX_QUERY_NODES } from './fusion.ts'

type Query = z.output<typeof QueryRequest>

export {
  DEFAULT_FUSION,
  defaultCandidates,
  type Fusion,
  fuseRankings,
  MAX_QUERY_NODES,
} from './fusion.ts'

/**
 * A text query: keyword only (`text`), or hybrid (`text` with `vector` or `id`).
 *
 * Keyword: the rows whose text matches `websearch_to_tsquery(text)`, ranked by `ts_rank_cd`
 * (its value is the match's `score`), ties by id. Hybrid: the fused topK (`fuseRankings`).
 * The two sides run side by side, each one transaction as the caller.
 *
 * @throws HttpError 400 for a collection made without `--text`, a text with no searchable words
 *   or too many, and options that apply to the other kind of query.
 */
export async function queryText(
  collection: Collection,
  input: Query & { text: string },
  caller: Caller,
): Promise<{ matches: ServedTextMatch[] }> {
  const scope = authorize(collection, caller, 'read')
  const language = textLanguage(collection)
  const hybrid = input.vector !== undefined || input.id !== undefined
  checkTextQuery(input, hybrid)
  const candidates = hybrid
    ? (input.fusion?.candidates ?? defaultCandidates(input.topK))
    : input.topK
  const keyword = keywordSearch(collection, input, caller, scope, language, candidates)
  if (!hybrid) {
    const rows = await keyword
    return {
      matches: rows.map((row, index) => toMatch(row, row.rank, { text: index + 1, vector: null })),
    }
  }
  const nearest = queryCollection(
    collection,
    { ...input, text: undefined, fusion: undefined, topK: candidates, explain: false },
    caller,
  )
  const [textRows, vectorResult] = await settled(keyword, nearest)
  // The vector side's order, ties made definite by id, is its ranking.
  const vectorRows = [...vectorResult.matches].sort(
    (a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  )
  const byId = new Map<string, Found>()
  for (const row of [...vectorRows, ...textRows]) if (!byId.has(row.id)) byId.set(row.id, row)
  const fused = fuseRankings(
    textRows,
    vectorRows,
    { ...DEFAULT_FUSION, ...input.fusion },
    input.topK,
  )
  return {
    matches: fused.map(({ id, score, ranks, distance }) =>
      toMatch(byId.get(id)!, score, ranks, distance),
    ),
  }
}

/** A record as either side found it: id, and values, metadata and owner when asked for. */
type Found = Omit<ServedTextMatch, 'score' | 'ranks' | 'distance'>

/** A text match as the function holds it: values and metadata as the database wrote them. */
type ServedTextMatch = Omit<TextMatch, 'values' | 'metadata'> & {
  values?: JsonText
  metadata?: JsonText
}

/** A keyword row, with `ts_rank_cd`'s rank. */
type KeywordRow = Found & { rank: number }

function toMatch(
  row: Found,
  score: number,
  ranks: TextMatch['ranks'],
  distance?: number,
): ServedTextMatch {
  const match: ServedTextMatch = { id: row.id, score, ranks }
  if (distance !== undefined) match.distance = distance
  if (row.values !== undefined) match.values = row.values
  if (row.metadata !== undefined) match.metadata = row.metadata
  if (row.owner_id !== undefined) match.owner_id = row.owner_id
  if (row.tenant_id !== undefined) match.tenant_id = row.tenant_id
  return match
}

/**
 * The best `limit` rows by `ts_rank_cd` among those whose text matches and that the filter and
 * the scope let through, ties by id; exact (every matching row is ranked). One transaction:
 * the tsquery's size is checked in the same round trip, and the ranking statement runs only
 * when the query has from 1 to MAX_QUERY_NODES nodes.
 */
async function keywordSearch(
  collection: Collection,
  input: Query & { text: string },
  caller: Caller,
  scope: Scope,
  language: string,
  limit: number,
): Promise<KeywordRow[]> {
  const params = new SqlParams()
  // The tsquery is made once, in a subquery: written inline, a generic plan (a prepared
  // statement's sixth run) would parse the text again for every row it ranks (9x slower).
  const parsed = `with q as (select websearch_to_tsquery(${params.add(language, 'regconfig')}, ${params.add(input.text, 'text')}) as query)`
  const tsquery = '(select q.query from q)'
  const max = params.add(MAX_QUERY_NODES, 'int')
  const where = whereClause(
    // Holds no column: Postgres evaluates it once, and skips the scan when it is false.
    `(select numnode(q.query) from q) between 1 and ${max}`,
    `c.fts @@ ${tsquery}`,
    input.filter ? compileFilter(input.filter, 'c.metadata', params) : undefined,
    scopeCondition(scope, params),
  )
  const owner = ownershipColumn(collection, caller)
  const columns = [
    'c.id',
    `ts_rank_cd(c.fts, ${tsquery}) as rank`,
    input.includeValues ? 'c.embedding::text as values' : '',
    input.includeMetadata ? 'c.metadata::text as metadata' : '',
    owner ? `c.${owner}::text as owner` : '',
  ].filter(Boolean)
  const statement = `${parsed} select ${columns.join(', ')} from ${collection.table} as c ${where}
    order by rank desc, c.id limit ${params.add(limit, 'int')}`
  const { nodes, rows } = await queryAsCaller(caller, async (sql) => {
    const [size, found] = await settled(
      sql.unsafe(`select numnode(websearch_to_tsquery($1::regconfig, $2::text))::int as nodes`, [
        language,
        input.text,
      ]),
      sql.unsafe(statement, params.values as never[]),
    )
    return { nodes: size[0]!.nodes as number, rows: found }
  })
  if (nodes === 0) {
    throw new HttpError(
      400,
      'invalid_request',
      `text: has no searchable words (only stop words or punctuation in "${collection.name}"'s language, ${language}): add a word to search for`,
    )
  }
  if (nodes > MAX_QUERY_NODES) {
    throw new HttpError(
      400,
      'invalid_request',
      `text: too many search terms (${nodes} words and operators, at most ${MAX_QUERY_NODES}): shorten it`,
    )
  }
  return rows.map((row) => {
    const found: KeywordRow = { id: row.id as string, rank: Number(row.rank) }
    // A keyword search also finds records that have a text and no vector: their values are null.
    if (input.includeValues) found.values = vectorJson(collection.type, row.values)
    if (input.includeMetadata) found.metadata = new JsonText(row.metadata as string)
    if (owner) found[owner] = row.owner as string
    return found
  })
}

/** The collection's text search configuration; a collection without text is refused. */
function textLanguage(collection: Collection): string {
  if (collection.textLanguage) return collection.textLanguage
  throw new HttpError(
    400,
    'invalid_request',
    `text: "${collection.name}" has no text to search: make a text collection with \`collection:new ${collection.name} … --text\` (a content column with full-text search) and upsert records with "text"`,
  )
}

/** Text queries are answered one at a time: a batch that holds one is refused (400). */
export function refuseTextInBatch(queries: readonly Query[]): void {
  const index = queries.findIndex((query) => query.text !== undefined)
  if (index >= 0) {
    throw new HttpError(
      400,
      'invalid_request',
      `queries.${index}.text: text queries are not batched: send each as its own query`,
    )
  }
}

/** Options that belong to the other kind of query are refused, not ignored. */
function checkTextQuery(input: Query, hybrid: boolean): void {
  const refuse = (message: string) => {
    throw new HttpError(400, 'invalid_request', message)
  }
  if (input.explain) refuse('explain: applies to vector queries, not text queries')
  if (!hybrid) {
    if (input.fusion !== undefined)
      refuse('fusion: applies to hybrid queries: send "vector" or "id" with "text"')
    for (const option of ['efSearch', 'probes'] as const) {
      if (input[option] !== undefined)
        refuse(`${option}: applies to vector search: send "vector" or "id" with "text"`)
    }
    if (input.scan !== 'auto')
      refuse('scan: applies to vector search: send "vector" or "id" with "text"')
    return
  }
  const candidates = input.fusion?.candidates
  if (candidates !== undefined && candidates < input.topK) {
    refuse(`fusion.candidates: expected at least topK (${input.topK}), not ${candidates}`)
  }
}

/**
 * Both answers, or the first failure once both have settled (so that neither is left to fail
 * unobserved).
 */
async function settled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b])
  if (first.status === 'rejected') throw first.reason
  if (second.status === 'rejected') throw second.reason
  return [first.value, second.value]
}
