/**
 * Listing while the collection changes: ids are added and deleted between (and during) the
 * pages of a listing, and every id present during the whole listing comes exactly once, in
 * order; in an owner collection, only the caller's.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { parseCollectionSpec } from '../../cli/collections/spec.ts'
import { post, stack } from '../support/http.ts'
import { userToken } from '../support/tokens.ts'
import { dropCollection, seeded } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const PUBLIC = 't_pages'
const OWNED = 't_pages_owned'
const ME = '0d0d0d0d-0000-4000-8000-00000000000d'
const SOMEONE = '0e0e0e0e-0000-4000-8000-00000000000e'
const admin = { key: stack.serviceRoleKey }

beforeAll(async () => {
  for (const [name, access] of [
    [PUBLIC, 'public'],
    [OWNED, 'owner'],
  ] as const) {
    await dropCollection(sql, name)
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name, dimensions: 2, metric: 'l2', access })),
    )
  }
})
afterAll(async () => {
  await dropCollection(sql, PUBLIC)
  await dropCollection(sql, OWNED)
  await sql.end()
})

/** Ids spread over the key space, so that changes land before, inside and after each page. */
function ids(prefix: string, count: number, random: () => number): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      `${prefix}${Math.floor(random() * 1e6)
        .toString(36)
        .padStart(4, '0')}-${i}`,
  )
}

async function upsert(name: string, records: { id: string; owner_id?: string }[]): Promise<void> {
  for (let i = 0; i < records.length; i += 1000) {
    const answer = await post(
      `vectors/${name}/upsert`,
      { records: records.slice(i, i + 1000).map((r) => ({ ...r, values: [1, 2] })) },
      admin,
    )
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  }
}

describe.each([
  { name: PUBLIC, owner: false },
  { name: OWNED, owner: true },
])('listing $name while it changes', ({ name, owner }) => {
  it('returns every id present throughout exactly once, in order', async () => {
    const random = seeded(owner ? 5 : 3)
    const stable = ids('s', 600, random)
    const doomed = ids('d', 300, random)
    await upsert(
      name,
      [...stable, ...doomed].map((id) => ({ id, owner_id: owner ? ME : undefined })),
    )
    if (owner)
      await upsert(
        name,
        ids('o', 300, random).map((id) => ({ id, owner_id: SOMEONE })),
      )
    const caller = owner ? { key: await userToken(ME) } : { key: stack.anonKey }

    const listed: string[] = []
    let cursor: string | null = null
    let page = 0
    const added: string[] = []
    let churn = Promise.resolve()
    do {
      // Between pages, and while the next page is read: new ids anywhere in the key space,
      // and deletions of ids not in the stable set.
      const fresh = ids(`a${page}`, 40, random).concat(ids('s', 10, random).map((id) => `${id}+`))
      added.push(...fresh)
      const gone = doomed.splice(0, 30)
      churn = churn.then(async () => {
        await upsert(
          name,
          fresh.map((id) => ({ id, owner_id: owner ? ME : undefined })),
        )
        if (gone.length === 0) return
        const deleted = await post(`vectors/${name}/delete`, { ids: gone }, admin)
        expect(deleted.status).toBe(200)
      })
      const answer: { status: number; body: { ids: string[]; nextCursor: string | null } } =
        await post(`vectors/${name}/list`, { limit: 37, cursor }, caller)
      expect(answer.status).toBe(200)
      listed.push(...answer.body.ids)
      cursor = answer.body.nextCursor
      page++
    } while (cursor)
    await churn

    expect(page).toBeGreaterThan(15)
    const counts = new Map<string, number>()
    for (const id of listed) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const id of stable) expect(counts.get(id), id).toBe(1)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    // In the database's order: strictly increasing from page to page.
    const [{ ordered }] = (await sql.unsafe(
      `select $1::text[] = array(select unnest($1::text[]) as id order by id) as ordered`,
      [listed],
    )) as unknown as [{ ordered: boolean }]
    expect(ordered).toBe(true)
    if (owner) expect(listed.some((id) => id.startsWith('o'))).toBe(false)
  }, 120_000)
})

it("refuses one user's cursor from another user of an owner collection (400)", async () => {
  const mine = await post(`vectors/${OWNED}/list`, { limit: 2 }, { key: await userToken(ME) })
  expect(mine.body.nextCursor).toEqual(expect.any(String))
  const theirs = await post(
    `vectors/${OWNED}/list`,
    { limit: 2, cursor: mine.body.nextCursor },
    { key: await userToken(SOMEONE) },
  )
  expect(theirs.status).toBe(400)
  expect(theirs.body.error.message).toMatch(/^cursor: made for another listing/)
})
