/**
 * Reads on a streaming replica (`npm run test:replicas`, as root: a private primary and a
 * real standby made with `pg_basebackup -R`, both on loopback):
 * - searches run on the standby: its scans of public.items move, the primary's do not;
 * - a read right after a write sees it when it sends the write's consistency token;
 * - killing the standby under load gives no 5xx and loses no acknowledged write, and it gets
 *   reads again once it is back.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts'
import {
  type Answer,
  load,
  percentile,
  post,
  sleep,
  stackWith,
  type TestStack,
} from '../pooler/harness.ts'
import { type Standby, startStandby } from './standby.ts'

const HEADER = 'x-matchbox-consistency'

let primary: PrivatePostgres
let standby: Standby
let stack: TestStack

beforeAll(async () => {
  primary = await startPrivatePostgres()
  standby = await startStandby(primary.url)
  stack = await stackWith({ dbUrl: primary.url, readUrls: [standby.url] })
  const seeded = await post(stack, 'items', {
    items: Array.from({ length: 200 }, (_, i) => ({ embedding: [i + 1, (i % 13) + 1, 3] })),
  })
  expect(seeded.status).toBe(201)
}, 300_000)
afterAll(async () => {
  await stack?.stop()
  await standby?.destroy()
  await primary?.destroy()
})

const search = (target: TestStack, i: number, headers: Record<string, string> = {}) =>
  post(
    target,
    'match-items',
    { embedding: [(i % 11) + 1, 2, (i % 5) + 1], count: 5 },
    { key: target.anonKey, headers },
  )

/** Scans of public.items the server has counted (its own, on a standby). */
async function scans(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql`
      select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as n
      from pg_stat_user_tables where relid = 'public.items'::regclass`
    return Number(row?.n ?? 0)
  } finally {
    await sql.end()
  }
}

/** Waits until the standby has replayed everything the primary has now. */
async function caughtUp(): Promise<void> {
  const p = postgres(primary.url, { max: 1, onnotice: () => {} })
  const s = postgres(standby.url, { max: 1, onnotice: () => {} })
  try {
    const [{ lsn }] = (await p`select pg_current_wal_lsn()::text as lsn`) as unknown as [
      { lsn: string },
    ]
    for (let i = 0; i < 200; i++) {
      const [{ done }] = (await s`
        select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`) as unknown as [
        { done: boolean },
      ]
      if (done) return
      await sleep(25)
    }
    throw new Error('the standby did not catch up')
  } finally {
    await p.end()
    await s.end()
  }
}

describe('reads on a replica', () => {
  it('runs searches on the standby, not the primary, and compares the throughput', async () => {
    await caughtUp()
    await sleep(1500) // statistics are flushed at most once a second
    const before = { primary: await scans(primary.url), standby: await scans(standby.url) }
    for (let i = 0; i < 100; i++) expect((await search(stack, i)).status).toBe(200)
    // A backend flushes its statistics when idle, at most once a second, or up to 10 s later.
    let after = before
    for (let waited = 0; waited < 15_000 && after.standby - before.standby < 100; waited += 500) {
      await sleep(500)
      after = { primary: await scans(primary.url), standby: await scans(standby.url) }
    }
    console.log(
      `100 searches: standby scans +${after.standby - before.standby}, primary +${after.primary - before.primary}`,
    )
    expect(after.standby - before.standby).toBeGreaterThanOrEqual(100)
    expect(after.primary - before.primary).toBe(0)

    // The same searches with every read on the primary, alternating, same run.
    const onPrimary = await stackWith({ dbUrl: primary.url })
    try {
      const rates: Record<string, number[]> = { replica: [], primary: [] }
      const p50s: Record<string, number[]> = { replica: [], primary: [] }
      for (let round = 0; round < 2; round++) {
        for (const [name, target] of [
          ['replica', stack],
          ['primary', onPrimary],
        ] as const) {
          const run = await load(8, 4000, (client, i) => search(target, client * 1000 + i))
          expect(Object.keys(run.statuses)).toEqual(['200'])
          rates[name]!.push(Math.round(run.perSecond))
          p50s[name]!.push(Number(percentile(run.latencies, 0.5).toFixed(2)))
        }
      }
      console.log(
        `searches/s at 8 clients, reads on the replica: ${rates.replica!.join(', ')} (p50 ${p50s.replica!.join(', ')} ms); ` +
          `on the primary: ${rates.primary!.join(', ')} (p50 ${p50s.primary!.join(', ')} ms)`,
      )
    } finally {
      await onPrimary.stop()
    }
  })

  it('answers a write with a consistency token, and a read that sends it sees the write', async () => {
    let staleWithout = 0
    for (let i = 0; i < 50; i++) {
      const embedding = [1, i + 2, (i + 2) ** 2]
      const written = await post(stack, 'items', { items: [{ embedding }] })
      expect(written.status).toBe(201)
      const token = written.headers.get(HEADER)
      expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
      const [read, blind] = await Promise.all([
        post(
          stack,
          'match-items',
          { embedding, count: 1 },
          { key: stack.anonKey, headers: { [HEADER]: token! } },
        ),
        post(stack, 'match-items', { embedding, count: 1 }, { key: stack.anonKey }),
      ])
      expect(read.status).toBe(200)
      expect(read.body.matches[0]?.id).toBe(written.body.ids[0])
      if (blind.body.matches[0]?.id !== written.body.ids[0]) staleWithout++
    }
    console.log(
      `read right after write: 50 of 50 saw it with the token; ${50 - staleWithout} of 50 without`,
    )
    const refused = await search(stack, 0, { [HEADER]: 'not-a-position' })
    expect(refused.status).toBe(400)
  })
})

describe('the standby dies under load', () => {
  it('answers every read and write without a 5xx, loses nothing, and uses the standby again once it is back', async () => {
    await caughtUp()
    const acknowledged: number[] = []
    const outcomes = new Map<string, number>()
    const searchDone: number[] = [] // when each successful search answered
    let phase: 'up' | 'down' | 'again' = 'up'
    let stop = false
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const answer: Answer =
          i % 4 === 0
            ? await post(stack, 'items', { items: [{ embedding: [n + 1, i + 1, 5] }] })
            : await search(stack, n * 1000 + i)
        const key = `${phase} ${answer.status}`
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
        if (answer.status === 201) acknowledged.push(...answer.body.ids)
        if (answer.status === 200) searchDone.push(performance.now())
      }
    }
    const running = Promise.all(Array.from({ length: 8 }, (_, n) => client(n)))
    await sleep(2000)
    phase = 'down'
    const killedAt = performance.now()
    await standby.kill()
    await sleep(3000)
    await standby.start()
    phase = 'again'
    await sleep(3000) // the next checks find it healthy
    const backScans = await scans(standby.url)
    await sleep(3000)
    stop = true
    await running
    let usedAgain = 0
    for (let waited = 0; waited < 15_000 && usedAgain === 0; waited += 500) {
      await sleep(500)
      usedAgain = (await scans(standby.url)) - backScans
    }

    const gaps = searchDone
      .filter((t) => t >= killedAt - 500 && t <= killedAt + 3000)
      .map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!))
    const sql = postgres(primary.url, { max: 1, onnotice: () => {} })
    const found = await sql`select id from public.items where id = any(${acknowledged}::bigint[])`
    await sql.end()
    console.log(
      `standby killed under load: answers ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}; ` +
        `${acknowledged.length} inserts acknowledged, ${found.length} found; longest gap between ` +
        `search answers around the kill ${Math.max(...gaps).toFixed(0)} ms; standby scans after it came back +${usedAgain}`,
    )
    expect([...outcomes.keys()].filter((key) => !/ 20[01]$/.test(key))).toEqual([])
    expect(found.length).toBe(acknowledged.length)
    expect(usedAgain).toBeGreaterThan(0)
  })
})
