/**
 * Hostile bodies against every route of an owner collection, from a user and from
 * service_role: never a 5xx, a refusal changes nothing, and whatever a user sends, another
 * user's records never change and never show in an answer.
 */
import fc from 'fast-check'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { parseCollectionSpec } from '../../cli/collections/spec.ts'
import { functionUrl, stack } from '../support/http.ts'
import { userToken } from '../support/tokens.ts'
import { dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_owner_hostile'
const RUNS = Number(process.env.MATCHBOX_PROPERTY_RUNS ?? 40)
const USER_A = '0a0a0a0a-0000-4000-8000-0000000000aa'
const USER_B = '0b0b0b0b-0000-4000-8000-0000000000bb'
const ROUTES = ['upsert', 'fetch', 'delete', 'update', 'query', 'list', 'count']
let tokenA = ''

beforeAll(async () => {
  tokenA = await userToken(USER_A)
  await dropCollection(sql, NAME)
  await sql.unsafe(
    collectionMigrationSql(parseCollectionSpec({ name: NAME, dimensions: 3, access: 'owner' })),
  )
  await sql.unsafe(
    `insert into public.${NAME} (id, embedding, metadata, owner_id) values
       ('a1', '[1,2,3]', '{"k":"v","tags":["x"]}', '${USER_A}'),
       ('b1', '[1,2,3]', '{"k":"v","tags":["x"]}', '${USER_B}'),
       ('b2', '[3,2,1]', '{"k":"w"}', '${USER_B}')`,
  )
})
afterAll(async () => {
  await dropCollection(sql, NAME)
  await sql.end()
})

/** A checksum of the rows of `owner` (all rows without one). */
async function state(owner?: string): Promise<string> {
  const [row] = await sql.unsafe(
    `select count(*) || ':' || coalesce(md5(string_agg(id || embedding::text || metadata::text || owner_id::text, ',' order by id)), '') as s
     from public.${NAME} ${owner ? `where owner_id = '${owner}'` : ''}`,
  )
  return row!.s
}

async function send(route: string, body: string, key: string) {
  const response = await fetch(functionUrl(`vectors/${NAME}/${route}`), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  })
  return { status: response.status, text: await response.text() }
}

const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('a1', 'b1', 'b2', '', '\u0000', "'; drop table x; --", '__proto__', USER_B),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
)
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('$in', '$contains', '$eq', '$or', 'k')),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value
const values = fc.oneof(
  { arbitrary: fc.constantFrom([1, 2, 3], [3, 1, 2], [0.5, -1, 2]), weight: 4 },
  { arbitrary: fc.constant([0, 0, 0]), weight: 1 },
  { arbitrary: fc.array(fc.double(), { maxLength: 5 }), weight: 1 },
  { arbitrary: json, weight: 1 },
)
const id = fc.oneof(fc.constantFrom('a1', 'a2', 'b1', 'b2', 'new'), scalar)
const filter = fc.oneof(
  fc.constantFrom({ k: 'v' }, { tags: { $contains: 'x' } }, { k: { $ne: 'w' } }),
  json,
)
const metadata = fc.oneof(fc.constantFrom({ k: 'v' }, { k: 'z', n: 1 }, {}), json)

/** Bodies in each route's vocabulary, mostly well formed, with wrong values mixed in. */
const BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  upsert: fc.oneof(
    // Well formed: ids A holds, B holds or nobody does; with an owner (service_role's form) or not (a user's).
    fc.record({
      records: fc.uniqueArray(
        fc.record(
          {
            id: fc.constantFrom('a1', 'a2', 'b1', 'b2', 'new'),
            values: fc.constantFrom([1, 2, 3], [3, 1, 2]),
            metadata: fc.constantFrom({ k: 'v' }, { k: 'z' }),
            owner_id: fc.constantFrom(USER_A, USER_B),
          },
          { requiredKeys: ['id', 'values', 'metadata'] },
        ),
        { minLength: 1, maxLength: 2, selector: (record) => record.id },
      ),
    }),
    fc.record({
      records: fc.array(
        fc.record(
          { id, values, metadata, owner_id: fc.constantFrom(USER_A, USER_B, 'nope') },
          { requiredKeys: ['id', 'values'] },
        ),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  ),
  fetch: fc.record({ ids: fc.array(id, { minLength: 1, maxLength: 4 }) }),
  delete: fc.oneof(
    fc.record({ ids: fc.array(id, { minLength: 1, maxLength: 4 }) }),
    fc.record({ filter }),
  ),
  update: fc.oneof(
    fc.record(
      { id, metadata, values, mode: fc.constantFrom('merge', 'replace', 'patch') },
      { requiredKeys: ['id'] },
    ),
    fc.record(
      { filter, metadata, mode: fc.constantFrom('merge', 'replace') },
      { requiredKeys: ['filter', 'metadata'] },
    ),
  ),
  query: fc.oneof(
    fc.record(
      { vector: values, topK: fc.integer({ min: 1, max: 10 }), filter },
      { requiredKeys: ['vector'] },
    ),
    fc.record(
      {
        id,
        topK: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: -1, max: 2000 }), scalar),
        filter,
      },
      { requiredKeys: ['id'] },
    ),
    fc.record({ vector: values, id, topK: fc.constant(2) }, { requiredKeys: [] }),
  ),
  list: fc.record(
    {
      limit: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -1, max: 2000 }), scalar),
      cursor: fc.oneof(
        { arbitrary: fc.constant(null), weight: 3 },
        { arbitrary: scalar, weight: 1 },
        { arbitrary: fc.base64String({ maxLength: 40 }), weight: 1 },
      ),
      prefix: fc.oneof(
        { arbitrary: fc.constantFrom('a', 'b'), weight: 3 },
        { arbitrary: scalar, weight: 1 },
      ),
      filter,
    },
    { requiredKeys: [] },
  ),
  count: fc.record({ filter }, { requiredKeys: [] }),
}

describe.each([
  { who: 'user A', key: () => tokenA },
  { who: 'service_role', key: () => stack.serviceRoleKey },
])('hostile bodies from $who', ({ who, key }) => {
  it('never get a 5xx; a refusal changes nothing; B is never touched or shown to A', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES).chain((route) => fc.tuple(fc.constant(route), BODIES[route]!)),
        async ([route, input]) => {
          const before = await state()
          const theirs = await state(USER_B)
          const answer = await send(route, JSON.stringify(input), key())
          expect(answer.status, answer.text).toBeLessThan(500)
          if (answer.status >= 400) {
            expect(JSON.parse(answer.text).error.code, answer.text).toMatch(/^[a-z_]+$/)
            expect(await state(), answer.text).toBe(before)
          }
          if (who === 'user A') {
            expect(await state(USER_B), `${route} ${answer.text}`).toBe(theirs)
            // A refusal may quote the caller's own input; an answer never holds B's records.
            if (answer.status < 300) {
              expect(answer.text).not.toMatch(/"(b1|b2)"/)
              expect(answer.text).not.toContain(USER_B)
            }
          }
        },
      ),
      { numRuns: RUNS },
    )
  }, 300_000)
})
