/**
 * `npm run bench:filters [-- --rows 50000 --dims 128 --native]`: where an exact scan beats
 * the iterative HNSW scan for filtered queries, which sets EXACT_SCAN_THRESHOLD in
 * supabase/functions/vectors/query.ts.
 *
 * Loads a collection whose rows carry `g` = row % 1000, then for filters matching 0.1% to
 * 20% of rows, as containment (`{"g":{"$in":[…]}}`, served by the GIN index) and as a range
 * (`{"g":{"$lt":m}}`, which no index serves), times the vectors function's query with
 * `scan: "exact"`, `"index"` and `"auto"`, and counts the rows each returns.
 */
import postgres from 'postgres'
import { collectionMigrationSql } from '../cli/collections/migration.ts'
import { parseCollectionSpec } from '../cli/collections/spec.ts'
import { EXACT_SCAN_THRESHOLD } from '../supabase/functions/_shared/vectors-contract.ts'
import { seededRandom } from './dataset.ts'
import { benchArgs } from './script-args.ts'
import { startThrowawayStack } from './throwaway-stack.ts'

const { counts: args, flags: FLAGS } = benchArgs({
  command: 'npm run bench:filters',
  about: `The exact scan against the iterative index walk for filters matching from 0.1% to 20% of
the rows, equality and range: where the planner's threshold belongs.`,
  counts: {
    rows: [50000, 'rows'],
    dims: [128, 'dimensions'],
    queries: [15, 'queries a cell'],
  },
})
const NATIVE = FLAGS.native
const ROWS = args.rows
const DIMS = args.dims
const QUERIES = args.queries
const MATCHING_PER_MILLE = [1, 2, 5, 10, 20, 50, 100, 200]

const random = seededRandom(1)
const vector = () =>
  `[${Array.from({ length: DIMS }, () => (random() * 2 - 1).toFixed(4)).join(',')}]`

async function main(): Promise<void> {
  // The functions' own errors, if any, explain a failed query.
  const stack = await startThrowawayStack({ name: 'filters', native: NATIVE, show: /error/i })
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
  try {
    const spec = parseCollectionSpec({ name: 'bench_filters', dimensions: DIMS })
    await sql.unsafe(collectionMigrationSql(spec))
    // Building the index once after the load is far quicker than growing it row by row.
    const [{ definition }] =
      (await sql`select pg_get_indexdef('public.bench_filters_embedding_idx'::regclass) as definition`) as unknown as [
        { definition: string },
      ]
    await sql`drop index public.bench_filters_embedding_idx`
    const loadStarted = performance.now()
    for (let start = 0; start < ROWS; start += 1000) {
      const ids: string[] = []
      const vectors: string[] = []
      const metadata: string[] = []
      for (let i = start; i < Math.min(ROWS, start + 1000); i++) {
        ids.push(`r${i}`)
        vectors.push(vector())
        metadata.push(JSON.stringify({ g: i % 1000 }))
      }
      await sql`insert into public.bench_filters (id, embedding, metadata)
        select * from unnest(${ids}::text[], ${vectors}::text[]::extensions.vector[], ${metadata}::text[]::jsonb[])`
    }
    await sql.unsafe(definition)
    // As after any bulk load: vacuum merges the GIN index's pending list (see bench:filtered).
    await sql`vacuum analyze public.bench_filters`
    console.log(
      `${ROWS} rows x ${DIMS} dims on ${NATIVE ? 'native PostgreSQL' : 'PGlite'}, loaded and indexed in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s; ${QUERIES} queries a cell, topK 10; EXACT_SCAN_THRESHOLD = ${EXACT_SCAN_THRESHOLD}`,
    )
    console.log(
      '| filter | matching rows | exact p50 ms | index p50 ms | index rows (mean) | auto p50 ms | auto rows (mean) |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    const queries = Array.from({ length: QUERIES }, vector).map(
      (text) => JSON.parse(text) as number[],
    )
    for (const kind of ['containment', 'range'] as const) {
      for (const perMille of MATCHING_PER_MILLE) {
        const filter =
          kind === 'containment'
            ? { g: { $in: Array.from({ length: perMille }, (_, i) => i) } }
            : { g: { $lt: perMille } }
        const cells = []
        for (const scan of ['exact', 'index', 'auto'] as const) {
          const times: number[] = []
          let rows = 0
          for (const query of queries) {
            const started = performance.now()
            const response = await fetch(
              `${stack.apiUrl}/functions/v1/vectors/bench_filters/query`,
              {
                method: 'POST',
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${stack.anonKey}`,
                },
                body: JSON.stringify({
                  vector: query,
                  topK: 10,
                  filter,
                  scan,
                  includeMetadata: false,
                }),
              },
            )
            const body = (await response.json()) as {
              matches?: unknown[]
              error?: { message: string }
            }
            if (!body.matches) throw new Error(`query failed: ${body.error?.message}`)
            times.push(performance.now() - started)
            rows += body.matches.length
          }
          times.sort((a, b) => a - b)
          cells.push({ p50: times[Math.floor(times.length / 2)]!, rows: rows / queries.length })
        }
        const [exact, index, auto] = cells
        console.log(
          `| ${kind} | ${(ROWS * perMille) / 1000} (${perMille / 10}%) | ${exact!.p50.toFixed(1)} | ${index!.p50.toFixed(1)} | ${index!.rows.toFixed(1)} | ${auto!.p50.toFixed(1)} | ${auto!.rows.toFixed(1)} |`,
        )
      }
    }
  } finally {
    await sql.end()
    await stack.stop()
  }
}

await main()
