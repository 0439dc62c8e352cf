/**
 * `npm run bench:hybrid [-- --rows 100000 --dims 128 --seconds 8 --native]`: keyword-only and
 * hybrid queries against vector-only ones, in the same run, through the vectors function.
 *
 * The rows' texts are made of sentences of the installed Debian packages' descriptions (two
 * to four, drawn at random), their vectors the word-count projection of test/support/text-corpus.ts
 * (no embedding model here: the figures are about cost, not relevance). Queries are two words
 * that occur side by side in some row, the same texts for every kind. Each kind runs in
 * interleaved slices at 1 and at 4 concurrent clients, so that a passing disturbance on the
 * shared machine hits every kind alike.
 */
import postgres from 'postgres'
import { collectionMigrationSql } from '../cli/collections/migration.ts'
import { parseCollectionSpec } from '../cli/collections/spec.ts'
import { debianDescriptions, projectWords, words } from '../test/support/text-corpus.ts'
import { seededRandom } from './dataset.ts'
import { type LoadSample, runLoad, summarize } from './load.ts'
import { benchArgs } from './script-args.ts'
import { startThrowawayStack } from './throwaway-stack.ts'

const { counts: args, flags: FLAGS } = benchArgs({
  command: 'npm run bench:hybrid',
  about: `Keyword-only and hybrid queries against vector-only ones, in the same run, through the
vectors function, at 1 and 4 clients.`,
  counts: {
    rows: [100000, 'rows with text'],
    dims: [128, 'dimensions'],
    queries: [200, 'distinct query texts'],
    seconds: [8, 'seconds a cell'],
    slices: [3, 'interleaved slices a cell'],
  },
})
const NATIVE = FLAGS.native
const ROWS = args.rows
const DIMS = args.dims
const QUERIES = args.queries
const SLICE_MS = (args.seconds * 1000) / args.slices
const SLICES = args.slices
const TOP_K = 10
const NAME = 'bench_hybrid'

/** Words too common to make a query of (English stop words are dropped by Postgres anyway). */
const SKIP = new Set(['the', 'and', 'for', 'with', 'this', 'that', 'from', 'are', 'can', 'is'])

async function main(): Promise<void> {
  const random = seededRandom(11)
  const sentences = debianDescriptions()
    .flatMap((document) => document.text.split(/(?<=\.)\s+/))
    .filter((sentence) => words(sentence).length >= 3)
  const stack = await startThrowawayStack({ name: 'hybrid', native: NATIVE, show: /error/i })
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name: NAME, dimensions: DIMS, text: true })),
    )
    // Building the indexes once after the load is far quicker than growing them row by row.
    const definitions = await sql<{ definition: string; name: string }[]>`
      select pg_get_indexdef(indexrelid) as definition, indexrelid::regclass::text as name
      from pg_index where indrelid = ${`public.${NAME}`}::regclass
        and indexrelid::regclass::text like any (array['%embedding_idx', '%fts_idx'])`
    for (const { name } of definitions) await sql.unsafe(`drop index ${name}`)

    const texts: string[] = []
    const loadStarted = performance.now()
    for (let start = 0; start < ROWS; start += 1000) {
      const ids: string[] = []
      const vectors: string[] = []
      const contents: string[] = []
      for (let i = start; i < Math.min(ROWS, start + 1000); i++) {
        const count = 2 + Math.floor(random() * 3)
        const text = Array.from(
          { length: count },
          () => sentences[Math.floor(random() * sentences.length)]!,
        ).join(' ')
        ids.push(`r${i}`)
        contents.push(text)
        vectors.push(JSON.stringify(projectWords(text, DIMS)))
        if (i % Math.ceil(ROWS / QUERIES) === 0) texts.push(text)
      }
      await sql`insert into ${sql(NAME)} (id, embedding, content)
        select * from unnest(${ids}::text[], ${vectors}::text[]::extensions.vector[], ${contents}::text[])`
    }
    const loaded = performance.now()
    for (const { definition } of definitions) await sql.unsafe(definition)
    await sql.unsafe(`analyze public.${NAME}`)
    const indexed = performance.now()

    const candidates = texts.map((text) => {
      const list = words(text).filter((word) => word.length > 2 && !SKIP.has(word))
      const at = Math.floor(random() * Math.max(1, list.length - 1))
      return list.slice(at, at + 2).join(' ') || 'library'
    })
    // Only texts with a searchable word: the others are refused (400), which costs nothing.
    const searchable = await sql<{ text: string }[]>`
      select q.text from unnest(${candidates}::text[]) with ordinality as q(text, n)
      where numnode(websearch_to_tsquery('english', q.text)) > 0 order by q.n`
    const queries = searchable.map(({ text }) => ({ text, vector: projectWords(text, DIMS) }))
    const bodies = {
      vector: (i: number) => ({ vector: queries[i % queries.length]!.vector, topK: TOP_K }),
      keyword: (i: number) => ({ text: queries[i % queries.length]!.text, topK: TOP_K }),
      hybrid: (i: number) => ({ ...queries[i % queries.length]!, topK: TOP_K }),
    }
    const [{ size }] = await sql<[{ size: string }]>`
      select pg_size_pretty(pg_total_relation_size(${`public.${NAME}`}::regclass)) as size`
    const matched = await sql<{ n: number }[]>`
      select count(*)::int as n from ${sql(NAME)} as c,
        unnest(${queries.map((q) => q.text)}::text[]) as q(text)
      where c.fts @@ websearch_to_tsquery('english', q.text) group by q.text`
    const perQuery = matched.map((row) => row.n).sort((a, b) => a - b)
    console.log(
      `${ROWS} rows with text (${size}) x ${DIMS}-d cosine HNSW on ${NATIVE ? 'native PostgreSQL' : 'PGlite'}: loaded in ${((loaded - loadStarted) / 1000).toFixed(1)} s, indexes (HNSW + GIN) built in ${((indexed - loaded) / 1000).toFixed(1)} s`,
    )
    console.log(
      `${queries.length} two-word queries (e.g. ${queries
        .slice(0, 3)
        .map((q) => JSON.stringify(q.text))
        .join(
          ', ',
        )}); rows matching a query's words: median ${perQuery[Math.floor(perQuery.length / 2)] ?? 0}, max ${perQuery.at(-1) ?? 0}; topK ${TOP_K}, hybrid candidates 40 a side`,
    )

    const url = `${stack.apiUrl}/functions/v1/vectors/${NAME}/query`
    const send = async (body: unknown): Promise<number> => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.anonKey}` },
        body: JSON.stringify({ ...(body as object), includeMetadata: false }),
      })
      const answer = (await response.json()) as { matches?: unknown[]; error?: { message: string } }
      if (!answer.matches) throw new Error(`${response.status}: ${answer.error?.message}`)
      return answer.matches.length
    }

    console.log(
      '| kind | clients | requests | QPS | p50 ms | p95 ms | mean rows | p50 / vector-only |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const concurrency of [1, 4]) {
      const samples: Record<keyof typeof bodies, LoadSample[]> = {
        vector: [],
        keyword: [],
        hybrid: [],
      }
      const next = { vector: 0, keyword: 0, hybrid: 0 }
      for (let slice = 0; slice < SLICES; slice++) {
        for (const kind of Object.keys(bodies) as (keyof typeof bodies)[]) {
          const sample = await runLoad({
            concurrency,
            durationMs: SLICE_MS,
            maxRequests: 1_000_000,
            warmupRequests: slice === 0 ? 20 : 0,
            firstIndex: next[kind],
            request: (index) => send(bodies[kind](index)),
          })
          next[kind] = sample.nextIndex
          samples[kind].push(sample)
        }
      }
      const vectorP50 = summarize(samples.vector).p50
      for (const kind of Object.keys(bodies) as (keyof typeof bodies)[]) {
        const result = summarize(samples[kind])
        if (result.errors > 0)
          console.error(`${kind}: ${result.errors} errors, first: ${result.firstError}`)
        console.log(
          `| ${kind} | ${concurrency} | ${result.requests} | ${result.qps.toFixed(0)} | ${result.p50.toFixed(1)} | ${result.p95.toFixed(1)} | ${result.score.toFixed(1)} | ${(result.p50 / vectorP50).toFixed(2)}x |`,
        )
      }
    }
  } finally {
    await sql.end()
    await stack.stop()
  }
}

await main()
