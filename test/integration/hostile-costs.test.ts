/**
 * Requests that cost far more than they weigh (the "hardening II" review): filter
 * amplification, deep nesting, invalid Unicode, non-finite numbers, slow and truncated bodies.
 * Each gets a 4xx within a bound, writes nothing, and leaves /health answering; the most
 * expensive request each bound admits is measured and printed.
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import fc from 'fast-check'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { functionUrl, stack } from '../support/http.ts'
import { createCollection, dropCollection, tablesState } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const COLLECTION = 't_costs'
const RUNS = Number(process.env.MATCHBOX_PROPERTY_RUNS ?? 60)
/** A refusal must come back within this, whatever the body (the review saw 25 s). */
const REFUSAL_BOUND_MS = 2_000

beforeAll(async () => {
  await createCollection(sql, { name: COLLECTION, dimensions: 3 })
  await sql.unsafe(
    `insert into public.${COLLECTION} (id, embedding, metadata)
     select 'r' || i, '[1,2,3]', jsonb_build_object('year', 2000 + i, 'tags', jsonb_build_array('a', 'b'))
     from generate_series(1, 20) as i`,
  )
})
afterAll(async () => {
  await dropCollection(sql, COLLECTION)
  await sql.end()
})

/** Row counts and checksums of every table a write could reach. */
const state = () => tablesState(sql, COLLECTION)

async function send(
  path: string,
  body: string,
  key = stack.serviceRoleKey,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now()
  const response = await fetch(functionUrl(path), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  })
  const text = await response.text()
  return { status: response.status, text, ms: performance.now() - started }
}

function expectQuickRefusal(answer: { status: number; text: string; ms: number }): void {
  expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(400)
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500)
  expect(JSON.parse(answer.text).error.message.length).toBeLessThan(1_000)
  expect(answer.ms).toBeLessThan(REFUSAL_BOUND_MS)
}

/** Polls /health while `work` runs; answers the slowest and a high percentile, in ms. */
async function whileHealthPolled(work: () => Promise<void>): Promise<{ max: number; p95: number }> {
  const times: number[] = []
  let done = false
  const poll = (async () => {
    while (!done) {
      const started = performance.now()
      await (await fetch(`${stack.apiUrl}/health`)).text()
      times.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  try {
    await work()
  } finally {
    done = true
    await poll
  }
  times.sort((a, b) => a - b)
  return { max: times.at(-1) ?? 0, p95: times[Math.floor(times.length * 0.95)] ?? 0 }
}

/** Resident memory of a process in MiB, from /proc. */
function residentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1])
    return Math.round(kb / 1024)
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks
  } catch {
    return undefined
  }
}

/** Non-JSON tokens put into a body's text where a marker string stands. */
function withRaw(value: unknown): string {
  return JSON.stringify(value).replace(/"RAW:([^"]*)"/g, (_, raw: string) => raw)
}

const nonFinite = fc.constantFrom('RAW:1e400', 'RAW:-1e400', 'RAW:1e999', 'RAW:-9e9999')
const badUnicode = fc.constantFrom('\ud800', '\udfff', 'a\udc00b', '\ud83d')
const longPath = fc
  .integer({ min: 17, max: 3000 })
  .map((segments) => Array.from({ length: segments }, (_, i) => `s${i}`).join('.'))
const bigList = fc
  .integer({ min: 1001, max: 3000 })
  .map((n) => Array.from({ length: n }, (_, i) => i))
const deep = fc
  .integer({ min: 33, max: 5000 })
  .map((depth) => `RAW:${'['.repeat(depth)}${']'.repeat(depth)}`)

const FILTER_PATHS = [`vectors/${COLLECTION}/query`, `vectors/${COLLECTION}/delete`]

/** Bodies of each hostile class, in every position a route takes a value. */
const hostileBodies = fc.oneof(
  // Long dotted paths × large $in lists: the amplification of the review.
  fc.record({
    path: fc.constantFrom(...FILTER_PATHS),
    body: fc.tuple(longPath, bigList).map(([path, list]) => ({
      vector: [1, 2, 3],
      filter: { [path]: { $in: list } },
    })),
  }),
  fc.record({
    path: fc.constantFrom(...FILTER_PATHS),
    body: longPath.map((path) => ({ vector: [1, 2, 3], filter: { [path]: 1 } })),
  }),
  // Deep nesting in every JSON field.
  fc.record({
    path: fc.constant(`vectors/${COLLECTION}/upsert`),
    body: deep.map((raw) => ({ records: [{ id: 'x', values: [1, 2, 3], metadata: { a: raw } }] })),
  }),
  fc.record({
    path: fc.constantFrom(...FILTER_PATHS),
    body: deep.map((raw) => ({ vector: [1, 2, 3], filter: { a: raw } })),
  }),
  fc.record({ path: fc.constant('match-items'), body: deep.map((raw) => ({ embedding: raw })) }),
  // Invalid Unicode in every string position.
  fc.record({
    path: fc.constantFrom(...FILTER_PATHS),
    body: badUnicode.chain((bad) =>
      fc.constantFrom(
        { vector: [1, 2, 3], filter: { [bad]: 1 } },
        { vector: [1, 2, 3], filter: { a: bad } },
      ),
    ),
  }),
  fc.record({
    path: fc.constant(`vectors/${COLLECTION}/upsert`),
    body: badUnicode.chain((bad) =>
      fc.constantFrom(
        { records: [{ id: bad, values: [1, 2, 3] }] },
        { records: [{ id: 'x', values: [1, 2, 3], metadata: { [bad]: 1 } }] },
        { records: [{ id: 'x', values: [1, 2, 3], metadata: { a: [bad] } }] },
      ),
    ),
  }),
  // Non-finite and huge numbers in every numeric position.
  fc.record({
    path: fc.constantFrom(...FILTER_PATHS),
    body: nonFinite.chain((n) =>
      fc.constantFrom(
        { vector: [1, 2, 3], filter: { year: { $gte: n } } },
        { vector: [1, 2, 3], filter: { year: { $lt: n } } },
        { vector: [1, 2, 3], filter: { year: n } },
        { vector: [1, 2, 3], filter: { year: { $in: [1, n] } } },
        { vector: [n, 2, 3] },
        { vector: [1, 2, 3], topK: n },
        { vector: [1, 2, 3], efSearch: n },
      ),
    ),
  }),
  fc.record({
    path: fc.constant(`vectors/${COLLECTION}/upsert`),
    body: nonFinite.map((n) => ({ records: [{ id: 'x', values: [1, 2, 3], metadata: { n } }] })),
  }),
  fc.record({
    path: fc.constant('match-items'),
    body: nonFinite.map((n) => ({ embedding: [1, 2, n], count: 4 })),
  }),
)

describe('requests that cost far more than they weigh', () => {
  it('answers every hostile class with a quick 4xx, writes nothing, and /health keeps answering', async () => {
    const rssBefore = residentMiB(stack.functionsPid)
    const dbBefore = residentMiB(stack.databasePid)
    const before = await state()
    const health = await whileHealthPolled(async () => {
      await fc.assert(
        fc.asyncProperty(hostileBodies, async ({ path, body }) => {
          expectQuickRefusal(await send(path, withRaw(body)))
        }),
        { numRuns: RUNS * 2 },
      )
    })
    expect(await state()).toBe(before)
    console.log(
      `hostile classes: /health slowest ${health.max.toFixed(1)} ms, p95 ${health.p95.toFixed(1)} ms; ` +
        `functions RSS ${rssBefore} -> ${residentMiB(stack.functionsPid)} MiB; ` +
        `database process RSS ${dbBefore ?? 'n/a'} -> ${residentMiB(stack.databasePid) ?? 'n/a'} MiB`,
    )
    expect(health.p95).toBeLessThan(100)
  })

  it.each([
    ['1e400', 'RAW:1e400'],
    ['-1e400', 'RAW:-1e400'],
    ['a NaN-like string', 'NaN'],
    ['an Infinity-like string', 'Infinity'],
  ])('a delete by a filter with %s deletes nothing', async (_, bound) => {
    const before = await state()
    // ($ne is left out: "not equal to the string NaN" is every numeric year, as written.)
    for (const op of ['$gt', '$gte', '$lt', '$lte', '$eq']) {
      const answer = await send(
        `vectors/${COLLECTION}/delete`,
        withRaw({ filter: { year: { [op]: bound } } }),
      )
      if (bound.startsWith('RAW:')) expectQuickRefusal(answer)
      // A string compares with strings only: no numeric year is below, above or equal to it.
      else expect(JSON.parse(answer.text)).toEqual({ deleted: 0 })
    }
    expect(await state()).toBe(before)
  })

  it('refuses an anon delete with an amplified filter at once, before compiling it', async () => {
    const path = Array.from({ length: 3000 }, (_, i) => `s${i}`).join('.')
    const list = Array.from({ length: 1000 }, (_, i) => i)
    const answer = await send(
      `vectors/${COLLECTION}/delete`,
      JSON.stringify({ filter: { [path]: { $in: list } } }),
      stack.anonKey,
    )
    expect(answer.status).toBe(403)
    expect(answer.ms).toBeLessThan(REFUSAL_BOUND_MS)
  })

  it('keeps serving a normal query while more slow bodies trickle in than there are slots', async () => {
    const { port, hostname } = new URL(stack.apiUrl)
    const SLOW = 80 // more than the gateway's 64 slots a function
    const sockets: net.Socket[] = []
    const answers: string[] = []
    for (let i = 0; i < SLOW; i++) {
      const socket = net.connect(Number(port), hostname)
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => answers.push(chunk))
      socket.on('error', () => {})
      socket.write(
        `POST /functions/v1/vectors/${COLLECTION}/query HTTP/1.1\r\nhost: ${hostname}\r\n` +
          `authorization: Bearer ${stack.anonKey}\r\ncontent-type: application/json\r\n` +
          `content-length: 1000\r\n\r\n{`,
      )
      sockets.push(socket)
    }
    const trickle = setInterval(() => sockets.forEach((s) => s.write(' ')), 500)
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const normal = await send(
        `vectors/${COLLECTION}/query`,
        JSON.stringify({ vector: [1, 2, 3], topK: 3 }),
        stack.anonKey,
      )
      expect(normal.status, normal.text).toBe(200)
      expect(normal.ms).toBeLessThan(2_000)
      console.log(`a normal query among ${SLOW} slow bodies: ${normal.ms.toFixed(1)} ms`)
      // The slow ones are answered 408 once their body's deadline (10 s) passes.
      const deadline = Date.now() + 15_000
      while (answers.filter((a) => a.includes(' 408 ')).length < SLOW && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      expect(answers.filter((a) => a.includes(' 408 ')).length).toBe(SLOW)
    } finally {
      clearInterval(trickle)
      sockets.forEach((socket) => socket.destroy())
    }
  }, 30_000)

  it('echoes at most a bounded part of a long collection name in its 404', async () => {
    const answer = await send(`vectors/${'a'.repeat(5000)}/query`, '{"vector":[1,2,3]}')
    expect(answer.status).toBe(404)
    expect(JSON.parse(answer.text).error.message.length).toBeLessThan(120)
  })

  it('refuses truncated bodies (400) and writes nothing', async () => {
    const before = await state()
    const { port, hostname } = new URL(stack.apiUrl)
    const raw = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), hostname)
      let answer = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (answer += chunk))
      socket.on('close', () => resolve(answer))
      socket.on('error', () => resolve(answer))
      const body = '{"records":[{"id":"t","values":[1,2,3]}'
      socket.write(
        `POST /functions/v1/vectors/${COLLECTION}/upsert HTTP/1.1\r\nhost: ${hostname}\r\n` +
          `authorization: Bearer ${stack.serviceRoleKey}\r\ncontent-type: application/json\r\n` +
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      )
    })
    expect(raw).toMatch(/^HTTP\/1\.1 400 /)
    expect(raw).toContain('invalid_json')
    expect(await state()).toBe(before)
  })

  it('measures the most expensive request each bound admits', async () => {
    const list = Array.from({ length: 1000 }, (_, i) => `value-${i}`)
    const conditions = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`field${i}`, { $in: list.slice(0, 15) }]),
    )
    let metadata: unknown = 'leaf'
    for (let i = 0; i < 15; i++) metadata = { [`k${i}`]: metadata }
    const cases: [string, string, string][] = [
      [
        '$in of 1000 values',
        `vectors/${COLLECTION}/query`,
        JSON.stringify({ vector: [1, 2, 3], filter: { category: { $in: list } } }),
      ],
      [
        '64 conditions',
        `vectors/${COLLECTION}/query`,
        JSON.stringify({ vector: [1, 2, 3], filter: conditions }),
      ],
      [
        '16-segment path × 1000 values',
        `vectors/${COLLECTION}/query`,
        JSON.stringify({
          vector: [1, 2, 3],
          filter: {
            [Array.from({ length: 16 }, (_, i) => `p${i}`).join('.')]: { $in: list.slice(0, 500) },
          },
        }),
      ],
      [
        'metadata 16 deep × 1000 records',
        `vectors/${COLLECTION}/upsert`,
        JSON.stringify({
          records: Array.from({ length: 1000 }, (_, i) => ({
            id: `deep-${i}`,
            values: [1, 2, 3],
            metadata,
          })),
        }),
      ],
    ]
    const lines: string[] = []
    for (const [name, path, body] of cases) {
      const fnCpu = cpuSeconds(stack.functionsPid)
      const dbCpu = cpuSeconds(stack.databasePid)
      const answer = await send(path, body)
      expect(answer.status, answer.text.slice(0, 300)).toBe(200)
      const fnUsed = (cpuSeconds(stack.functionsPid) ?? 0) - (fnCpu ?? 0)
      const dbUsed = dbCpu === undefined ? undefined : (cpuSeconds(stack.databasePid) ?? 0) - dbCpu
      lines.push(
        `${name}: ${(body.length / 1024).toFixed(0)} KiB, ${answer.ms.toFixed(1)} ms, functions CPU ${(fnUsed * 1000).toFixed(0)} ms` +
          (dbUsed === undefined ? '' : `, database process CPU ${(dbUsed * 1000).toFixed(0)} ms`),
      )
      expect(answer.ms).toBeLessThan(5_000)
    }
    await sql.unsafe(`delete from public.${COLLECTION} where id like 'deep-%'`)
    console.log(
      `most expensive admissible requests (${stack.embedded ? 'embedded PGlite' : 'PostgreSQL'}):\n  ${lines.join('\n  ')}`,
    )
  })
})
