/**
 * `npm run bench:filtered [-- --rows 100000 --dims 384 --native]`: filtered search against
 * unfiltered search, through the vectors function, one client, topK 10: p50 at 0.1%, 1% and
 * 20% selectivity for equality, `$in`, ranges on a declared field (its btree) and ranges on an
 * undeclared one, each with its rows returned and recall@10 against a brute-force ranking of
 * the matching rows (computed by the database, exact). Issue 12's target: filtered p50 <= 3x
 * unfiltered for all but undeclared ranges, every answer k rows, recall >= 0.9.
 */
import postgres from 'postgres'
import { collectionMigrationSql } from '../cli/collections/migration.ts'
import { parseCollectionSpec } from '../cli/collections/spec.ts'
import { generateDataset, row, vectorArray, vectorText } from './dataset.ts'
import { percentile } from './load.ts'
import { benchArgs } from './script-args.ts'
import { startThrowawayStack } from './throwaway-stack.ts'

const { counts: args, flags: FLAGS } = benchArgs({
  command: 'npm run bench:filtered',
  about: `Filtered against unfiltered search through the vectors function, one client, topK 10:
p50, rows returned and recall@10 at 0.1%, 1% and 20% selectivity for equality, $in, ranges
on a declared field and on an undeclared one.`,
  counts: {
    rows: [100000, 'rows in the collection'],
    dims: [384, 'dimensions'],
    queries: [25, 'queries a cell'],
  },
  flags: {
    'no-vacuum': 'analyze only after the load, as a bulk load leaves a table before vacuum',
  },
})
const NATIVE = FLAGS.native
const ROWS = args.rows
const DIMS = args.dims
const QUERIES = args.queries
const NAME = 'bench_filtered'

/** Metadata of row `i`: the same value as a declared field (`n`) and an undeclared one (`u`). */
function metadata(i: number): Record<string, unknown> {
  return { n: i, u: i, e1000: i % 1000, e100: i % 100, e5: i % 5 }
}

/** The cells: a name, its selectivity and its filter. */
function cells(): [string, number, Record<string, unknown> | undefined][] {
  const at = (share: number) => Math.round(ROWS * share)
  return [
    ['none', 1, undefined],
    ['equality', 0.001, { e1000: 7 }],
    ['equality', 0.01, { e100: 7 }],
    ['equality', 0.2, { e5: 2 }],
    ['$in', 0.001, { e1000: { $in: [7] } }],
    ['$in', 0.01, { e1000: { $in: Array.from({ length: 10 }, (_, i) => i * 3) } }],
    ['$in', 0.2, { e5: { $in: [2] } }],
    ['range, declared', 0.001, { n: { $lt: at(0.001) } }],
    ['range, declared', 0.01, { n: { $lt: at(0.01) } }],
    ['range, declared', 0.2, { n: { $lt: at(0.2) } }],
    ['range, undeclared', 0.001, { u: { $lt: at(0.001) } }],
    ['range, undeclared', 0.01, { u: { $lt: at(0.01) } }],
    ['range, undeclared', 0.2, { u: { $lt: at(0.2) } }],
  ]
}

async function main(): Promise<void> {
  const stack = await startThrowawayStack({ name: 'filtered', native: NATIVE, show: /error/i })
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
  try {
    const data = generateDataset({
      count: ROWS,
      dimensions: DIMS,
      metric: 'cosine',
      clusters: 50,
      spread: 0.5,
      queries: QUERIES,
      seed: 12,
    })
    const spec = parseCollectionSpec({ name: NAME, dimensions: DIMS, indexField: ['n:number'] })
    await sql.unsafe(collectionMigrationSql(spec))
    const [{ definition }] = (await sql`
      select pg_get_indexdef('public.bench_filtered_embedding_idx'::regclass) as definition`) as unknown as [
      { definition: string },
    ]
    await sql`drop index public.bench_filtered_embedding_idx`
    const loadStarted = performance.now()
    for (let start = 0; start < ROWS; start += 1000) {
      const ids: string[] = []
      const vectors: string[] = []
      const metas: string[] = []
      for (let i = start; i < Math.min(ROWS, start + 1000); i++) {
        ids.push(`r${i}`)
        vectors.push(vectorText(row(data.vectors, DIMS, i)))
        metas.push(JSON.stringify(metadata(i)))
      }
      await sql`insert into public.bench_filtered (id, embedding, metadata)
        select * from unnest(${ids}::text[], ${vectors}::text[]::extensions.vector[], ${metas}::text[]::jsonb[])`
    }
    await sql.unsafe(definition)
    // As after any bulk load: vacuum merges the GIN index's pending list, which every GIN scan
    // reads whole until then (an `$in` of 10 values is 20 scans). --no-vacuum shows the cost.
    if (FLAGS['no-vacuum']) await sql`analyze public.bench_filtered`
    else await sql`vacuum analyze public.bench_filtered`
    const pending = await ginPendingPages(sql, 'public.bench_filtered_metadata_idx')
    console.log(
      `${ROWS} rows x ${DIMS} dims, clustered, cosine, on ${NATIVE ? 'native PostgreSQL' : 'embedded PGlite'}: loaded and indexed in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s, ${FLAGS['no-vacuum'] ? 'analyzed' : 'vacuumed'} (GIN pending list: ${pending}); ${QUERIES} queries a cell, one client, topK 10, default efSearch (40)`,
    )
    console.log('| filter | matching | p50 ms | / unfiltered | rows (min) | recall@10 |')
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
    const queries = Array.from({ length: QUERIES }, (_, i) =>
      vectorArray(row(data.queries, DIMS, i)),
    )
    let unfiltered = 0
    for (const [name, share, filter] of cells()) {
      const times: number[] = []
      let minRows = Infinity
      let found = 0
      let expected = 0
      for (const query of queries) {
        const started = performance.now()
        const response = await fetch(`${stack.apiUrl}/functions/v1/vectors/${NAME}/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.anonKey}` },
          body: JSON.stringify({ vector: query, topK: 10, filter, includeMetadata: false }),
        })
        const body = (await response.json()) as { matches?: { id: string }[]; error?: unknown }
        times.push(performance.now() - started)
        if (!body.matches) throw new Error(`query failed: ${JSON.stringify(body.error)}`)
        minRows = Math.min(minRows, body.matches.length)
        const truth = await exactIds(sql, query, filter)
        const got = new Set(body.matches.map((match) => match.id))
        found += truth.filter((id) => got.has(id)).length
        expected += truth.length
      }
      times.sort((a, b) => a - b)
      const p50 = percentile(times, 50)
      if (!filter) unfiltered = p50
      console.log(
        `| ${name}${filter ? ` \`${JSON.stringify(filter).slice(0, 40)}\`` : ''} | ${(share * 100).toFixed(1)}% | ${p50.toFixed(1)} | ${(p50 / unfiltered).toFixed(2)} | ${minRows} | ${(found / expected).toFixed(3)} |`,
      )
    }
  } finally {
    await sql.end()
    await stack.stop()
  }
}

/** The GIN index's pending pages, from pgstattuple where the server has it. */
async function ginPendingPages(sql: postgres.Sql, index: string): Promise<string> {
  try {
    await sql`create extension if not exists pgstattuple`
    const [row] = await sql`select pending_pages from pgstatginindex(${index}::regclass)`
    return `${row!.pending_pages} pages`
  } catch {
    return 'not measured (no pgstattuple)'
  }
}

/** The true 10 nearest matching rows: an exact scan, the vector index kept out of it. */
async function exactIds(
  sql: postgres.Sql,
  query: number[],
  filter: Record<string, unknown> | undefined,
): Promise<string[]> {
  const where = filter
    ? `where ${Object.entries(filter)
        .map(([key, condition]) => conditionSql(key, condition))
        .join(' and ')}`
    : ''
  const rows = await sql.begin(async (tx) => {
    await tx`set local enable_indexscan = off`
    return await tx.unsafe(
      `select id from public.${NAME} ${where} order by embedding operator(extensions.<=>) $1::extensions.vector limit 10`,
      [JSON.stringify(query)],
    )
  })
  return rows.map((r) => r.id as string)
}

/** The bench's own filters, written as plain SQL for the ground truth (not the compiler's). */
function conditionSql(key: string, condition: unknown): string {
  const value = `(metadata->>'${key}')::int`
  if (typeof condition === 'number') return `${value} = ${condition}`
  const { $lt, $in } = condition as { $lt?: number; $in?: number[] }
  if ($lt !== undefined) return `${value} < ${$lt}`
  return `${value} = any(array[${$in!.join(',')}])`
}

await main()
