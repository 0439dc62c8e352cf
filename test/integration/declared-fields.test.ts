/**
 * Declared metadata fields (`--index-field`, `collection:field`): filters on them are served by
 * their btree index and answer exactly what the same filter answers on an undeclared field.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionField } from '../../cli/collection-field.ts'
import { post, stack } from '../support/http.ts'
import { createCollection, denseVector, dropCollection, seeded } from '../support/vectors.ts'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const DECLARED = 't_fields'
const PLAIN = 't_fields_plain'
const ROWS = 3000
const random = seeded(11)
const records = Array.from({ length: ROWS }, (_, i) => ({
  id: `r${i}`,
  values: denseVector(random, 8),
  metadata: {
    n: i,
    lang: ['en', 'fr', 'de'][i % 3]!,
    draft: i % 7 === 0,
    ...(i % 50 === 0 ? { n: String(i) } : {}), // a few values of another type
    ...(i % 97 === 0 ? { n: [i] } : {}), // and a few arrays
  },
}))

beforeAll(async () => {
  await createCollection(sql, {
    name: DECLARED,
    dimensions: 8,
    indexField: ['n:number', 'lang:text', 'draft:boolean'],
  })
  await createCollection(sql, { name: PLAIN, dimensions: 8 })
  for (const name of [DECLARED, PLAIN]) {
    for (let i = 0; i < ROWS; i += 1000) {
      const answer = await post(
        `vectors/${name}/upsert`,
        { records: records.slice(i, i + 1000) },
        { key: stack.serviceRoleKey },
      )
      expect(answer.status).toBe(200)
    }
    await sql.unsafe(`analyze public.${name}`)
  }
})
afterAll(async () => {
  await dropCollection(sql, DECLARED)
  await dropCollection(sql, PLAIN)
  await sql.end()
})

describe('declared metadata fields', () => {
  it('are described by the catalog reader', async () => {
    const [row] = await sql`
      select count(*)::int as n from pg_catalog.pg_index i
      where i.indrelid = ${`public.${DECLARED}`}::regclass
        and obj_description(i.indexrelid, 'pg_class') like 'matchbox field %'`
    expect(row!.n).toBe(3)
  })

  it.each([
    [{ n: { $lt: 30 } }],
    [{ n: { $gte: 2900, $lt: 2950 } }],
    [{ n: 1234 }],
    [{ n: { $in: [5, 97, 194, 2000] } }],
    [{ lang: 'fr', n: { $lt: 600 } }],
    [{ lang: { $gt: 'e' } }],
    [{ draft: true, n: { $gt: 2500 } }],
    [{ n: { $gt: '2' } }], // a string operand: compared with strings only, as on any field
    [{ $or: [{ n: { $lt: 10 } }, { n: { $gt: 2990 } }] }],
  ])('%j answers as on an undeclared field, k rows, nearest first', async (filter) => {
    const vector = denseVector(random, 8)
    const body = { vector, topK: 10, filter, includeMetadata: false }
    const [declared, plain, exact] = await Promise.all([
      post(`vectors/${DECLARED}/query`, body),
      post(`vectors/${PLAIN}/query`, body),
      post(`vectors/${PLAIN}/query`, { ...body, scan: 'exact' }),
    ])
    expect(declared.status, JSON.stringify(declared.body)).toBe(200)
    const ids = (answer: typeof declared) => answer.body.matches.map((m: { id: string }) => m.id)
    expect(ids(declared)).toEqual(ids(exact))
    expect(ids(plain)).toEqual(ids(exact))
  })

  it('serves a range on a declared field with its index', async () => {
    const answer = await post(
      `vectors/${DECLARED}/query`,
      { vector: denseVector(random, 8), topK: 10, filter: { n: { $lt: 30 } }, explain: true },
      { key: stack.serviceRoleKey },
    )
    expect(answer.status).toBe(200)
    expect(answer.body.plan.join('\n')).toContain(`${DECLARED}_f_n_idx`)
  })

  it('collection:field writes a migration that declares a field of an existing collection', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'matchbox-fields-'))
    try {
      const result = collectionField([PLAIN, 'n:number', '--workdir', dir], {
        command: 'collection field',
        projectDir: dir,
      })
      if (result === 'help') throw new Error('unexpected help')
      await sql.unsafe(readFileSync(result.file, 'utf8'))
      const answer = await post(`vectors/${PLAIN}/query`, {
        vector: denseVector(random, 8),
        topK: 5,
        filter: { n: { $lt: 30 } },
      })
      expect(answer.status).toBe(200)
      expect(answer.body.matches).toHaveLength(5)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
