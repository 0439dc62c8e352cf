/**
 * The functions behind a transaction pooler (`npm run test:pooler`, as root: it runs a
 * PostgreSQL and a PgBouncer of its own):
 * - a search is one round trip to native PostgreSQL, counted on the wire;
 * - named (direct) against unnamed (pooler) statements: round trips and latency;
 * - the pooler restarted under load: 503 while it is gone, every acknowledged insert kept,
 *   serving again within a second or two.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts'
import { percentile, post, sleep, stackWith, type TestStack } from './harness.ts'
import { type PgBouncer, startPgBouncer } from './pgbouncer.ts'
import { type CountingProxy, startCountingProxy } from '../../bench/round-trips.ts'
import { createCollection } from '../support/vectors.ts'

let server: PrivatePostgres
let bouncer: PgBouncer

beforeAll(async () => {
  server = await startPrivatePostgres()
  bouncer = await startPgBouncer(server.url)
}, 300_000)
afterAll(async () => {
  await bouncer?.destroy()
  await server?.destroy()
})

const search = (stack: TestStack, i = 0) =>
  post(stack, 'match-items', { embedding: [1, (i % 7) + 1, 2], count: 5 }, { key: stack.anonKey })

/** Round trips per request, counted on the wire after a warm-up, one request at a time. */
async function roundTrips(
  counter: CountingProxy,
  request: (i: number) => Promise<{ status: number }>,
  n = 20,
): Promise<number> {
  for (let i = 0; i < 3; i++) expect((await request(i)).status).toBeLessThan(300)
  counter.reset()
  for (let i = 0; i < n; i++) expect((await request(i)).status).toBeLessThan(300)
  return counter.counts().roundTrips / n
}

describe('round trips and statements', () => {
  it('makes a search one round trip on native PostgreSQL, and says what the pooler costs', async () => {
    const direct = await startCountingProxy(server.url)
    const unnamed = await startCountingProxy(server.url)
    const pooled = await startCountingProxy(bouncer.url)
    const stacks: Record<string, TestStack> = {}
    try {
      // One connection each, so that every counted request runs on a warmed-up one.
      const env = { MATCHBOX_DB_POOL_SIZE: '1' }
      stacks.named = await stackWith({ dbUrl: server.url, functionsDbUrl: direct.url }, env)
      stacks.unnamed = await stackWith(
        { dbUrl: server.url, functionsDbUrl: unnamed.url },
        { ...env, MATCHBOX_DB_PREPARE: 'false' },
      )
      stacks.pooled = await stackWith({ dbUrl: server.url, functionsDbUrl: pooled.url }, env)
      const insert = (stack: TestStack) => (i: number) =>
        post(stack, 'items', { items: [{ embedding: [i + 1, 2, 3] }] })

      const searchTrips = await roundTrips(direct, (i) => search(stacks.named!, i))
      const insertTrips = await roundTrips(direct, insert(stacks.named))
      // A collection's query, plain and filtered (the scan decided inside its one statement),
      // and a batch of them.
      const setup = postgres(server.url, { max: 1, onnotice: () => {} })
      try {
        await createCollection(setup, { name: 't_trips', dimensions: 3 })
      } finally {
        await setup.end()
      }
      const records = Array.from({ length: 60 }, (_, i) => ({
        id: `r${i}`,
        values: [1, (i % 7) + 1, (i % 5) + 1],
        metadata: { g: i % 3 },
      }))
      expect((await post(stacks.named, 'vectors/t_trips/upsert', { records })).status).toBe(200)
      const query = (body: object) => (i: number) =>
        post(stacks.named!, 'vectors/t_trips/query', { vector: [1, (i % 7) + 1, 2], ...body })
      const queryTrips = await roundTrips(direct, query({ topK: 5 }))
      const filteredTrips = await roundTrips(direct, query({ topK: 5, filter: { g: 1 } }))
      const batchTrips = await roundTrips(direct, (i) =>
        post(stacks.named!, 'vectors/t_trips/query', {
          queries: [0, 1, 2].map((j) => ({ vector: [1, ((i + j) % 7) + 1, 2], topK: 5 })),
        }),
      )
      // The largest batch: 203 statements, past postgres.js's default pipeline of 100.
      const bigBatchTrips = await roundTrips(direct, (i) =>
        post(stacks.named!, 'vectors/t_trips/query', {
          queries: Array.from({ length: 100 }, (_, j) => ({
            vector: [1, ((i + j) % 7) + 1, 2],
            topK: 5,
          })),
        }),
      )
      const unnamedSearchTrips = await roundTrips(unnamed, (i) => search(stacks.unnamed!, i))
      const pooledSearchTrips = await roundTrips(pooled, (i) => search(stacks.pooled!, i))
      const pooledInsertTrips = await roundTrips(pooled, insert(stacks.pooled))

      // Latency at one client, alternating, each through the same kind of relay.
      const latencies: Record<string, number[]> = { named: [], unnamed: [], pooled: [] }
      for (let round = 0; round < 300; round++) {
        for (const name of ['named', 'unnamed', 'pooled'] as const) {
          const answer = await search(stacks[name]!, round)
          expect(answer.status).toBe(200)
          if (round >= 20) latencies[name]!.push(answer.ms)
        }
      }
      const p50 = (name: string) => percentile(latencies[name]!, 0.5)
      console.log(
        `round trips per request: search ${searchTrips} direct (named statements), ` +
          `${unnamedSearchTrips} direct with unnamed statements, ${pooledSearchTrips} through PgBouncer (unnamed); ` +
          `insert ${insertTrips} direct, ${pooledInsertTrips} through PgBouncer. match-items p50 at 1 client: ` +
          `direct named ${p50('named').toFixed(2)} ms, direct unnamed ${p50('unnamed').toFixed(2)} ms ` +
          `(+${(p50('unnamed') - p50('named')).toFixed(2)}), through PgBouncer ${p50('pooled').toFixed(2)} ms ` +
          `(+${(p50('pooled') - p50('unnamed')).toFixed(2)} for the pooler's hop)`,
      )
      console.log(
        `round trips per request, direct (named statements): vectors query ${queryTrips}, ` +
          `filtered ${filteredTrips}, a batch of 3 ${batchTrips}, a batch of 100 ${bigBatchTrips}`,
      )
      expect(searchTrips).toBe(1)
      expect(queryTrips).toBe(1)
      expect(filteredTrips).toBe(1)
      expect(batchTrips).toBe(1)
      // Its 203 statements leave in socket writes of about a kilobyte as they are made, and the
      // database may answer all it has before the next arrive, which the counter counts again
      // though nothing waited (1.45 measured); postgres.js's default pipeline of 100 made every
      // statement past the 100th wait for an answer (103.5 measured).
      expect(bigBatchTrips).toBeLessThan(30)
      expect(insertTrips).toBe(2) // begin + settings + insert, then commit
      // postgres.js 3.4.9 describes an unnamed statement with parameters before it binds it,
      // and sends what is queued behind it only once that is answered: 5 or 6 round trips.
      expect(unnamedSearchTrips).toBeGreaterThan(1)
      expect(pooledSearchTrips).toBeLessThanOrEqual(6)
    } finally {
      for (const stack of Object.values(stacks)) await stack.stop()
      await direct.close()
      await unnamed.close()
      await pooled.close()
    }
  })
})

describe('the pooler restarts under load', () => {
  it('answers 503 while it is gone, keeps every acknowledged insert, and serves again at once', async () => {
    const stack = await stackWith({ dbUrl: server.url, functionsDbUrl: bouncer.url })
    try {
      expect(stack.logs.join('\n')).toContain('functions connect through')
      const acknowledged: number[] = []
      const outcomes = new Map<string, number>()
      let phase: 'up' | 'down' | 'again' = 'up'
      let backAt = 0
      let recoveredMs = Infinity
      let stop = false
      const client = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const answer =
            i % 2 === 0
              ? await post(stack, 'items', { items: [{ embedding: [n + 1, i + 1, 1] }] })
              : await search(stack, i)
          const key = `${phase} ${answer.status} ${answer.body?.error?.code ?? ''}`.trim()
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          if (answer.status === 201) acknowledged.push(...answer.body.ids)
          if (answer.status < 300 && phase === 'again') {
            recoveredMs = Math.min(recoveredMs, performance.now() - backAt)
          }
          if (answer.status >= 300) await sleep(20)
        }
      }
      const running = Promise.all(Array.from({ length: 12 }, (_, n) => client(n)))
      await sleep(2000)
      phase = 'down'
      await bouncer.kill()
      await sleep(2000)
      await bouncer.start()
      backAt = performance.now()
      phase = 'again'
      await sleep(3000)
      stop = true
      await running

      const sql = postgres(server.url, { max: 1, onnotice: () => {} })
      const found = await sql`select id from public.items where id = any(${acknowledged}::bigint[])`
      await sql.end()
      const report = Object.fromEntries([...outcomes].sort())
      console.log(
        `pooler killed under load: ${acknowledged.length} inserts acknowledged, ${found.length} found; ` +
          `answers by phase: ${JSON.stringify(report)}; first answer ${recoveredMs.toFixed(0)} ms after the pooler was back`,
      )
      expect(found.length).toBe(acknowledged.length)
      expect(outcomes.get('down 503 database_unavailable')).toBeGreaterThan(0)
      // Nothing but successes and 503s: no 500, no 504, no request left without an answer.
      const unexpected = [...outcomes.keys()].filter(
        (key) => !/ (200|201|503 database_unavailable)$/.test(key),
      )
      expect(unexpected).toEqual([])
      expect(recoveredMs).toBeLessThan(2000)
    } finally {
      await stack.stop()
    }
  })
})
