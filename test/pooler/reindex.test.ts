/**
 * `collection reindex` on native PostgreSQL (run by `npm run test:pooler`, as root, on a
 * private server): a concurrent rebuild under search load keeps every search answering and
 * swaps the new index in under the old name; pgvector's memory notice is relayed and warned
 * of up front; a cancelled concurrent build leaves no invalid index behind.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reindex, type ReindexOutput } from '../../cli/reindex.ts'
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts'
import { createCollection } from '../support/vectors.ts'
import { load, percentile, post, sleep, stackWith, type TestStack } from './harness.ts'

let server: PrivatePostgres
let stack: TestStack
let sql: postgres.Sql

/** A collection of `rows` random 64-d vectors with its HNSW index. */
async function seed(name: string, rows: number): Promise<void> {
  await createCollection(sql, { name, dimensions: 64, metric: 'cosine', index: 'hnsw' })
  // Loaded without the index, which is then made again from its own definition: faster.
  const [index] = await sql`
    select pg_get_indexdef(x.indexrelid) as definition, x.indexrelid::regclass::text as name
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_am m on m.oid = i.relam
    where x.indrelid = ${`public.${name}`}::regclass and m.amname = 'hnsw'`
  await sql.unsafe(`drop index ${index!.name}`)
  await sql.unsafe(`
    insert into public.${name} (id, embedding)
    select 'r' || i, ('[' || array_to_string(array(
      select round(random()::numeric, 3) from generate_series(1, 64) where i > 0), ',') || ']')::extensions.vector(64)
    from generate_series(1, ${rows}) as i`)
  await sql.unsafe(index!.definition)
  await sql.unsafe(`analyze public.${name}`)
}

function captured(): ReindexOutput & { lines: string[] } {
  const lines: string[] = []
  return { lines, line: (text) => lines.push(text) }
}

async function invalidIndexes(table: string): Promise<number> {
  const [row] = await sql`
    select count(*)::int as n from pg_index where indrelid = ${table}::regclass and not indisvalid`
  return row!.n
}

beforeAll(async () => {
  server = await startPrivatePostgres()
  sql = postgres(server.url, { max: 2, onnotice: () => {} })
  stack = await stackWith({ dbUrl: server.url })
}, 300_000)
afterAll(async () => {
  await stack?.stop()
  await sql?.end()
  await server?.destroy()
})

describe('collection reindex', () => {
  it('rebuilds concurrently under search load: every search answers, the index keeps its name', async () => {
    await seed('t_reindex', 10_000)
    const query = (i: number) =>
      post(stack, 'vectors/t_reindex/query', {
        vector: Array.from({ length: 64 }, (_, d) => ((i * 7 + d * 13) % 17) / 17 + 0.01),
        topK: 10,
      })
    await load(4, 2000, (client, i) => query(client * 1000 + i)) // warm: connections, catalog
    const before = await load(4, 6000, (client, i) => query(client * 1000 + i))
    expect(Object.keys(before.statuses)).toEqual(['200'])

    const output = captured()
    let building = true
    const rebuilt = reindex(server.url, 't_reindex', { concurrently: true, output }).finally(
      () => (building = false),
    )
    const during = { statuses: {} as Record<string, number>, latencies: [] as number[] }
    await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        for (let i = 0; building; i++) {
          const answer = await query(client * 1000 + i)
          during.statuses[answer.status] = (during.statuses[answer.status] ?? 0) + 1
          if (answer.status === 200) during.latencies.push(answer.ms)
        }
      }),
    )
    const result = await rebuilt
    console.log(
      `reindex --concurrently of 10,000 x 64 under 4 search clients: ${result.seconds.toFixed(1)} s; ` +
        `search p50/p99 before ${percentile(before.latencies, 0.5).toFixed(1)}/${percentile(before.latencies, 0.99).toFixed(1)} ms ` +
        `(${before.latencies.length} searches), during ${percentile(during.latencies, 0.5).toFixed(1)}/${percentile(during.latencies, 0.99).toFixed(1)} ms ` +
        `(${during.latencies.length} searches, answers ${JSON.stringify(during.statuses)})\n${output.lines.join('\n')}`,
    )
    expect(Object.keys(during.statuses)).toEqual(['200'])
    expect(during.latencies.length).toBeGreaterThan(0)
    expect(output.lines.some((line) => line.startsWith('swapped:'))).toBe(true)
    const indexes = await sql`
      select i.relname, x.indisvalid from pg_index x join pg_class i on i.oid = x.indexrelid
      join pg_am m on m.oid = i.relam
      where x.indrelid = 'public.t_reindex'::regclass and m.amname = 'hnsw'`
    expect(indexes).toEqual([{ relname: result.index, indisvalid: true }])
    expect((await query(1)).status).toBe(200)
  })

  it('warns before the build when the graph will not fit, and relays pgvector’s notice', async () => {
    await seed('t_reindex_small', 4_000)
    const output = captured()
    const result = await reindex(server.url, 't_reindex_small', {
      concurrently: true,
      maintenanceWorkMem: '1MB',
      output,
    })
    console.log(output.lines.join('\n'))
    expect(output.lines.some((line) => line.startsWith('warning: the graph will not fit'))).toBe(
      true,
    )
    expect(result.notices.join('\n')).toMatch(/hnsw graph no longer fits into maintenance_work_mem/)
  })

  it('leaves no invalid index behind when a concurrent build is cancelled', async () => {
    const output = captured()
    const rebuilt = reindex(server.url, 't_reindex', { concurrently: true, output }).then(
      () => 'finished',
      (error: Error) => error.message,
    )
    let cancelled = false
    for (let i = 0; i < 400 && !cancelled; i++) {
      await sleep(25)
      const rows = await sql`
        select pg_cancel_backend(pid) as done from pg_stat_progress_create_index
        where relid = 'public.t_reindex'::regclass`
      cancelled = rows.some((row) => row.done)
    }
    expect(cancelled).toBe(true)
    expect(await rebuilt).toMatch(/the build failed and was cleaned up: canceling statement/)
    expect(await invalidIndexes('public.t_reindex')).toBe(0)
    const [kept] = await sql`
      select count(*)::int as n from pg_index x join pg_class i on i.oid = x.indexrelid
      join pg_am m on m.oid = i.relam
      where x.indrelid = 'public.t_reindex'::regclass and m.amname = 'hnsw' and x.indisvalid`
    expect(kept!.n).toBe(1)
  })
})
