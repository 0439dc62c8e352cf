/**
 * Faults (`npm run test:faults`, as root: it runs PostgreSQL servers of its own):
 * - the database crashes (`pg_ctl stop -m immediate`) under a sustained insert load: every
 *   insert acknowledged with 201 is there afterwards, requests fail fast with 503 while it is
 *   down, and the functions recover without a restart, within seconds of the database;
 * - a function's worker dies mid-request (worker isolation): 502, then it serves again;
 * - the functions' process dies mid-request (inline, the default): it is restarted and the
 *   next request succeeds;
 * - the database terminates a function's connection mid-transaction: 503, and the process
 *   serves on without a restart;
 * - a statement that runs past the per-request timeout is cancelled and answered 504.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../stack/ports.ts'
import { type Stack, startStack } from '../../stack/stack.ts'
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts'
import { createCollection } from '../support/vectors.ts'

let server: PrivatePostgres
const dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-faults-'))

/** A stack on the private server, with `env` set for its functions, and what it logged. */
async function stackWith(env: Record<string, string> = {}): Promise<Stack & { logs: string[] }> {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  const logs: string[] = []
  try {
    const stack = await startStack({
      dbUrl: server.url,
      dataDir,
      apiPort: await freePort(),
      dbPort: await freePort(),
      playgroundPort: await freePort(),
      log: (line) => {
        logs.push(line)
        if (process.env.MATCHBOX_TEST_LOGS) console.log(line)
      },
    })
    return { ...stack, logs }
  } finally {
    process.env = saved
  }
}

async function post(stack: Stack, name: string, body: unknown, key = stack.serviceRoleKey) {
  const started = performance.now()
  try {
    const response = await fetch(`${stack.apiUrl}/functions/v1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    })
    const text = await response.text()
    return {
      status: response.status,
      body: text ? JSON.parse(text) : null,
      ms: performance.now() - started,
    }
  } catch (error) {
    return { status: 0, body: { error: String(error) }, ms: performance.now() - started }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeAll(async () => {
  server = await startPrivatePostgres()
}, 180_000)
afterAll(async () => {
  await server?.destroy()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('the database crashes under insert load', () => {
  it('keeps every acknowledged insert, fails fast while down, and recovers by itself', async () => {
    const stack = await stackWith()
    try {
      const acknowledged: number[] = []
      const outcomes = new Map<string, number>()
      const downtime: number[] = []
      let phase: 'up' | 'down' | 'again' = 'up'
      let backAt = 0 // when the database was up again
      let recoveredMs = Infinity // from then to the first insert acknowledged
      let stop = false
      const client = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const answer = await post(stack, 'items', {
            items: [{ embedding: [n + 1, i + 1, 1] }, { embedding: [1, n + 1, i + 1] }],
          })
          const key = `${phase} ${answer.status} ${answer.body?.error?.code ?? ''}`.trim()
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          if (answer.status === 201) acknowledged.push(...answer.body.ids)
          if (answer.status === 201 && phase === 'again')
            recoveredMs = Math.min(recoveredMs, performance.now() - backAt)
          if (phase === 'down') downtime.push(answer.ms)
          if (answer.status !== 201) await sleep(50)
        }
      }
      const load = Promise.all(Array.from({ length: 8 }, (_, n) => client(n)))
      await sleep(2000)
      phase = 'down'
      await server.crash()
      await sleep(2000)
      await server.start()
      backAt = performance.now()
      phase = 'again'
      await sleep(3000)
      stop = true
      await load

      const sql = postgres(server.url, { max: 1, onnotice: () => {} })
      const found = await sql`select id from public.items where id = any(${acknowledged}::bigint[])`
      await sql.end()
      const report = Object.fromEntries([...outcomes].sort())
      console.log(
        `crash under load: ${acknowledged.length} inserts acknowledged, ${found.length} found after restart; ` +
          `answers by phase: ${JSON.stringify(report)}; slowest answer while down: ${Math.max(...downtime).toFixed(0)} ms; ` +
          `first insert acknowledged ${recoveredMs.toFixed(0)} ms after the database was back`,
      )
      expect(found.length).toBe(acknowledged.length)
      expect(acknowledged.length).toBeGreaterThan(0)
      // While down: 503 with a clear code, fast; no 500s anywhere.
      expect(outcomes.get('down 503 database_unavailable')).toBeGreaterThan(0)
      expect([...outcomes.keys()].filter((key) => / 500 /.test(key))).toEqual([])
      expect(Math.max(...downtime)).toBeLessThan(6000)
      // Recovered without a restart of the functions, promptly (reconnection backoff capped).
      expect(outcomes.get('again 201')).toBeGreaterThan(0)
      expect(recoveredMs).toBeLessThan(2500)
      expect(stack.functions.restarts).toBe(0)
    } finally {
      await stack.stop()
    }
  })
})

describe('a function dies mid-request', () => {
  beforeAll(async () => {
    const sql = postgres(server.url, { max: 1, onnotice: () => {} })
    await sql`select 1` // the server is up again after the crash test
    await createCollection(sql, { name: 't_slow', dimensions: 3 })
    // A write that takes a second: long enough to be killed in the middle of.
    await sql.unsafe(`
      create function public.t_slow_sleep() returns trigger language plpgsql set search_path = '' as
      $$ begin perform pg_catalog.pg_sleep(1); return new; end $$;
      create trigger t_slow_sleep before insert on public.t_slow for each row execute function public.t_slow_sleep();`)
    await sql.end()
  }, 60_000)

  it('in a worker: answers 502, starts a new worker, and serves the next request', async () => {
    const stack = await stackWith({
      MATCHBOX_FUNCTION_ISOLATION: 'worker',
      MATCHBOX_FAULT_INJECTION: '1',
    })
    try {
      const slow = post(stack, 'vectors/t_slow/upsert', {
        records: [{ id: 'a', values: [1, 2, 3] }],
      })
      await sleep(300)
      const crash = await fetch(`${stack.apiUrl}/_matchbox/crash/vectors`, { method: 'POST' })
      expect(crash.status).toBe(202)
      const killed = await slow
      expect(killed.status).toBe(502)
      expect(killed.body.error.code).toBe('function_crashed')
      const next = await post(stack, 'vectors/t_slow/query', { vector: [1, 2, 3] }, stack.anonKey)
      expect(next.status).toBe(200)
      // The other functions never noticed.
      expect(
        (await post(stack, 'match-items', { embedding: [1, 2, 3] }, stack.anonKey)).status,
      ).toBe(200)
    } finally {
      await stack.stop()
    }
  })

  it('inline: the process is restarted and the next request succeeds', async () => {
    const stack = await stackWith()
    try {
      const slow = post(stack, 'vectors/t_slow/upsert', {
        records: [{ id: 'b', values: [1, 2, 3] }],
      })
      await sleep(300)
      stack.functions.process.kill('SIGKILL')
      const killed = await slow
      expect(killed.status).toBe(0) // the connection was cut: no answer at all
      let next = await post(stack, 'match-items', { embedding: [1, 2, 3] }, stack.anonKey)
      for (let i = 0; i < 100 && next.status !== 200; i++) {
        await sleep(100)
        next = await post(stack, 'match-items', { embedding: [1, 2, 3] }, stack.anonKey)
      }
      expect(next.status).toBe(200)
      expect(stack.functions.restarts).toBe(1)
    } finally {
      await stack.stop()
    }
  })

  it('answers 503 when its connection is terminated mid-transaction, and serves on in the same process', async () => {
    // postgres.js rolls back a failed transaction on the connection it ran on; when that
    // connection has closed, the write throws outside any query (porsager/postgres#1208)
    // and, uncaught, would end the functions' process.
    const stack = await stackWith()
    const sql = postgres(server.url, { max: 1, onnotice: () => {} })
    try {
      const slow = post(stack, 'vectors/t_slow/upsert', {
        records: [{ id: 'd', values: [1, 2, 3] }],
      })
      // The function's backend, once it is inside the insert (the trigger sleeps a second).
      let terminated = false
      for (let i = 0; i < 50 && !terminated; i++) {
        await sleep(50)
        const rows = await sql`
          select pg_terminate_backend(pid) as done from pg_stat_activity
          where application_name = 'matchbox-functions' and wait_event = 'PgSleep'`
        terminated = rows.some((row) => row.done)
      }
      expect(terminated).toBe(true)
      const cut = await slow
      expect(cut.status).toBe(503)
      expect(cut.body.error.code).toBe('database_unavailable')
      expect(await sql`select id from public.t_slow where id = 'd'`).toEqual([])
      await sleep(200) // past the timer the faulty write would run on
      const next = await post(stack, 'vectors/t_slow/query', { vector: [1, 2, 3] }, stack.anonKey)
      expect(next.status).toBe(200)
      expect(stack.functions.restarts).toBe(0)
      // Nothing escaped as an unhandled error. (The transaction code no longer writes a
      // rollback to a connection it knows is lost, so postgres.js's faulty write does not come.)
      expect(stack.logs.join('\n')).not.toContain('unhandled error')
    } finally {
      await sql.end()
      await stack.stop()
    }
  })

  it('answers 504 in bounded time when a statement runs past its timeout, and cancels it', async () => {
    const stack = await stackWith({ MATCHBOX_STATEMENT_TIMEOUT_MS: '300' })
    try {
      const answer = await post(stack, 'vectors/t_slow/upsert', {
        records: [{ id: 'c', values: [1, 2, 3] }],
      })
      expect(answer.status).toBe(504)
      expect(answer.body.error.code).toBe('timeout')
      expect(answer.ms).toBeLessThan(900)
      const sql = postgres(server.url, { max: 1, onnotice: () => {} })
      expect(await sql`select id from public.t_slow where id = 'c'`).toEqual([])
      await sql.end()
    } finally {
      await stack.stop()
    }
  })
})
