/**
 * Property-based hostile input over every request body: whatever arrives gets a 4xx with a
 * clear message, never a 5xx, and a refused write changes nothing.
 */
import fc from 'fast-check'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { functionUrl, stack } from '../support/http.ts'
import { createCollection, dropCollection, tablesState } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const COLLECTION = 't_hostile'
const RUNS = Number(process.env.MATCHBOX_PROPERTY_RUNS ?? 60)

beforeAll(async () => {
  await createCollection(sql, { name: COLLECTION, dimensions: 3 })
  await sql.unsafe(
    `insert into public.${COLLECTION} (id, embedding, metadata) values ('seed', '[1,2,3]', '{"k":"v"}')`,
  )
})
afterAll(async () => {
  await dropCollection(sql, COLLECTION)
  await sql.end()
})

/** Row counts and checksums of every table a write could reach. */
const state = () => tablesState(sql, COLLECTION)

/** Sends raw bytes with the service key (so only the input, never the role, can refuse). */
async function send(
  path: string,
  body: string,
  contentType = 'application/json',
): Promise<{ status: number; text: string }> {
  const response = await fetch(functionUrl(path), {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.serviceRoleKey}`, 'content-type': contentType },
    body,
  })
  return { status: response.status, text: await response.text() }
}

function expectClearRefusal(answer: { status: number; text: string }): void {
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400)
  expect(answer.status, answer.text).toBeLessThan(500)
  const body = JSON.parse(answer.text)
  expect(body.error.code).toMatch(/^[a-z_]+$/)
  expect(body.error.message.length).toBeGreaterThan(5)
}

const WRITE_PATHS = ['items', `vectors/${COLLECTION}/upsert`, `vectors/${COLLECTION}/delete`]
const ALL_PATHS = [
  ...WRITE_PATHS,
  'match-items',
  `vectors/${COLLECTION}/query`,
  `vectors/${COLLECTION}/fetch`,
]

/** Strings that have broken parsers and SQL before. */
const nasty = fc.constantFrom(
  '',
  '\u0000',
  'a\u0000b',
  "'; drop table public.items; --",
  '"',
  '\\',
  '$1',
  '{"$gt":1}',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '\ud800',
  'x'.repeat(10_000),
  '__proto__',
  'constructor',
  '1e400',
  '-0',
  'NaN',
)

/** Numbers JSON can carry that break naive code. */
const nastyNumber = fc.oneof(
  fc.constantFrom(-0, 1e308, -1e308, 5e-324, 3.5e38, 65505, Number.MAX_SAFE_INTEGER + 2, 0.1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
)

/** A JSON value built to be wrong in ways that are easy to get wrong. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    nasty,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(nasty, fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
  ),
})).value

/** Bodies shaped like each route's, with hostile parts. */
const shapedBodies = fc.oneof(
  fc.record({
    items: fc.array(
      fc.record({ embedding: fc.oneof(hostileValue, fc.array(nastyNumber, { maxLength: 5 })) }),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    embedding: fc.array(fc.oneof(nastyNumber, nasty), { maxLength: 5 }),
    count: hostileValue,
  }),
  fc.record({
    records: fc.array(
      fc.record({
        id: fc.oneof(nasty, hostileValue),
        values: fc.oneof(hostileValue, fc.array(nastyNumber, { minLength: 3, maxLength: 3 })),
        metadata: hostileValue,
      }),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    vector: fc.array(nastyNumber, { minLength: 3, maxLength: 3 }),
    filter: fc.dictionary(
      fc.oneof(nasty, fc.constantFrom('$and', '$or', '$in', '$gt', 'a.b')),
      hostileValue,
      { maxKeys: 3 },
    ),
  }),
  fc.record({
    ids: fc.oneof(hostileValue, fc.array(nasty, { maxLength: 3 })),
    filter: hostileValue,
  }),
  hostileValue,
)

describe('hostile input', () => {
  it('answers every shaped-but-hostile body with a clear 4xx and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALL_PATHS), shapedBodies, async (path, body) => {
        const before = await state()
        const answer = await send(path, JSON.stringify(body))
        // The generators do sometimes make a valid body (three small numbers are an item):
        // it is served, and may write. Every other body is refused, and writes nothing.
        if (answer.status < 300) return
        expectClearRefusal(answer)
        expect(await state(), `${path} ${JSON.stringify(body)}`).toBe(before)
      }),
      { numRuns: RUNS * 4 },
    )
  })

  it.each([
    ['truncated JSON', '{"items":[{"embedding":[1,2'],
    ['a trailing comma', '{"embedding":[1,2,3],}'],
    ['1e400, Infinity once parsed', '{"embedding":[1e400,1,2]}'],
    ['numbers as strings', '{"embedding":["1","2","3"]}'],
    ['a duplicate key whose last value is bad', '{"embedding":[1,2,3],"embedding":"x"}'],
    ['deep nesting', `{"embedding":${'['.repeat(5000)}${']'.repeat(5000)}}`],
    ['a huge array', `{"embedding":[${Array(200_000).fill(1).join(',')}]}`],
    ['a lone surrogate', '{"embedding":[1,2,3],"x":"\\ud800"}'],
    ['NUL in a key', '{"embedding\\u0000":[1,2,3]}'],
    ['__proto__ as a key', '{"embedding":[1,2,3],"__proto__":{"count":1}}'],
    ['constructor as a key', '{"embedding":[1,2,3],"constructor":{"prototype":{}}}'],
    ['a top-level string', '"hello"'],
    ['null', 'null'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')],
  ])('match-items refuses %s with a clear 4xx', async (_, body) => {
    expectClearRefusal(await send('match-items', body))
  })

  it.each(ALL_PATHS)('%s refuses wrong or missing content types (415)', async (path) => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
    ]) {
      const answer = await send(path, '{}', type)
      expect(answer.status).toBe(415)
    }
  })

  it('binds SQL meta-characters in ids, filter keys and filter values', async () => {
    const before = await state()
    const hostile = ["'", '"', ';', '--', '/*', 'a$$b', '\\', "') or ('1'='1", '%', '_']
    for (const text of hostile) {
      expectClearRefusal(
        await send(
          `vectors/${COLLECTION}/upsert`,
          JSON.stringify({ records: [{ id: text, values: [1, 2] }] }),
        ),
      )
      const fetched = await send(`vectors/${COLLECTION}/fetch`, JSON.stringify({ ids: [text] }))
      expect(JSON.parse(fetched.text)).toEqual({ records: [] })
      const queried = await send(
        `vectors/${COLLECTION}/query`,
        JSON.stringify({ vector: [1, 2, 3], filter: { [text]: text, k: { $in: [text] } } }),
      )
      expect(JSON.parse(queried.text)).toEqual({ matches: [] })
      const deleted = await send(
        `vectors/${COLLECTION}/delete`,
        JSON.stringify({ filter: { [text]: { $gt: text } } }),
      )
      expect(JSON.parse(deleted.text)).toEqual({ deleted: 0 })
    }
    expect(await state()).toBe(before)
  })
})
