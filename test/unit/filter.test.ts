import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HttpError } from '../../supabase/functions/_shared/errors.ts'
import { compileFilter, FILTER_LIMITS, SqlParams } from '../../supabase/functions/vectors/filter.ts'

function compile(filter: unknown) {
  const params = new SqlParams()
  const sql = compileFilter(filter, 'c.metadata', params)
  return { sql, values: params.values }
}

function refusal(filter: unknown): { status: number; code: string; message: string } {
  try {
    compile(filter)
  } catch (error) {
    const { status, code, message } = error as HttpError
    return { status, code, message }
  }
  throw new Error('the filter was accepted')
}

describe('compileFilter: the SQL it writes', () => {
  it('binds every key and value; the SQL holds only placeholders, operators and the alias', () => {
    const { sql, values } = compile({ "evil'key": "x'); drop table t; --", n: { $gt: 1 } })
    expect(sql).not.toContain('evil')
    expect(sql).not.toContain('drop')
    expect(values).toContain(`{"evil'key":"x'); drop table t; --"}`)
  })

  it('writes equality as containment, which the GIN index serves', () => {
    expect(compile({ category: 'news' })).toEqual({
      sql: '(c.metadata @> $1::text::jsonb)',
      values: ['{"category":"news"}'],
    })
  })

  it('nests dotted paths', () => {
    expect(compile({ 'author.name': 'ann' }).values).toEqual(['{"author":{"name":"ann"}}'])
  })

  it('keeps __proto__ and constructor segments as plain data', () => {
    expect(compile({ '__proto__.x': 1, constructor: 2 }).values).toEqual([
      '{"__proto__":{"x":1}}',
      '{"constructor":2}',
    ])
  })

  it('compares numbers with numbers only', () => {
    const { sql, values } = compile({ year: { $gte: 2020 } })
    expect(sql).toBe(
      "(jsonb_typeof((c.metadata #> $1::text[])) = 'number' and (c.metadata #> $1::text[]) >= $2::text::jsonb)",
    )
    expect(values).toEqual([['year'], '2020'])
  })

  it('writes $in as one containment test per value, scalar or array element', () => {
    expect(compile({ tag: { $in: ['a', 'b'] } })).toEqual({
      sql: 'c.metadata @> any($1::text[]::jsonb[])',
      values: [['{"tag":"a"}', '{"tag":["a"]}', '{"tag":"b"}', '{"tag":["b"]}']],
    })
  })
})

describe('compileFilter: refusals name the path and the bound', () => {
  it.each([
    [{ year: { $gt: Infinity } }, 'filter.year.$gt: expected a finite number'],
    [{ year: { $gte: -Infinity } }, 'filter.year.$gte: expected a finite number'],
    [{ year: { $lt: Number.NaN } }, 'filter.year.$lt: expected a finite number'],
    [{ year: Infinity }, 'filter.year: expected a finite number'],
    [{ year: { $in: [1, Infinity] } }, 'filter.year.$in.1: expected a finite number'],
    [{ year: { $gt: null } }, 'filter.year.$gt: expected a number or a string'],
    [{ year: { $gtt: 1 } }, 'filter.year.$gtt: unknown operator "$gtt"'],
    [{ $nor: [] }, 'filter.$nor: unknown operator "$nor"'],
    [{}, 'filter: expected at least one condition'],
    [{ a: { $in: [] } }, 'filter.a.$in: expected a non-empty array'],
    [{ a: { b: 1 } }, 'filter.a.$eq: expected a string, number, boolean or null'],
    [{ a: [[1]] }, 'filter.a.0: expected a string, number, boolean or null, not an array'],
    [{ 'a..b': 1 }, 'filter.a..b: a field name has an empty segment'],
  ])('%j', (filter, message) => {
    expect(refusal(filter)).toEqual({ status: 400, code: 'invalid_filter', message })
  })

  it('bounds path segments and field names', () => {
    const segments = Array.from({ length: FILTER_LIMITS.pathSegments + 1 }, () => 'a').join('.')
    expect(refusal({ [segments]: 1 }).message).toContain(
      `a field path has at most ${FILTER_LIMITS.pathSegments} segments, not 17`,
    )
    const long = 'x'.repeat(FILTER_LIMITS.fieldLength + 1)
    const { message } = refusal({ [long]: 1 })
    expect(message).toContain(`a field name has at most ${FILTER_LIMITS.fieldLength} characters`)
    expect(message.length).toBeLessThan(200) // the key is not echoed whole
  })

  it('bounds list sizes, conditions and nesting', () => {
    const many = Array.from({ length: FILTER_LIMITS.list + 1 }, (_, i) => i)
    expect(refusal({ a: { $in: many } }).message).toBe(
      `filter.a.$in: expected at most ${FILTER_LIMITS.list} values, not 1001`,
    )
    const conditions = Object.fromEntries(
      Array.from({ length: FILTER_LIMITS.conditions + 1 }, (_, i) => [`f${i}`, i]),
    )
    expect(refusal(conditions).message).toContain('a filter has at most 64 conditions')
    let deep: unknown = { a: 1 }
    for (let i = 0; i <= FILTER_LIMITS.depth; i++) deep = { $and: [deep] }
    expect(refusal(deep).message).toContain('filters nest at most 8 deep')
  })

  it('bounds what a filter compiles to: the amplification of long paths by long lists', () => {
    // 16 segments of 15 characters, 1000 values: ~0.5 MB of JSON from an 18 KB filter.
    const path = Array.from({ length: 16 }, (_, i) => `segment_${i}`.padEnd(15, 'x')).join('.')
    const values = Array.from({ length: 1000 }, (_, i) => i)
    refusal({ [path]: { $in: values } }) // warm up, as a serving process is
    const started = performance.now()
    const { message } = refusal({ [path]: { $in: values } })
    expect(message).toContain(
      `the filter compiles to more than ${FILTER_LIMITS.compiledChars} characters`,
    )
    console.log(`amplified filter refused in ${(performance.now() - started).toFixed(2)} ms`)
  })

  it('admits the largest filter the bounds allow, and it stays small', () => {
    const values = Array.from({ length: FILTER_LIMITS.list }, (_, i) => `v${i}`)
    const { values: params } = compile({ category: { $in: values } })
    const chars = (params[0] as string[]).reduce((sum, text) => sum + text.length, 0)
    expect(chars).toBeLessThanOrEqual(FILTER_LIMITS.compiledChars)
  })
})

describe('compileFilter: what it matches, in Postgres', () => {
  let db: PGlite
  const rows: Record<string, unknown>[] = [
    { id: 'a', tags: ['x', 'y'], year: 2020, lang: 'en' },
    { id: 'b', tags: ['y'], year: 2021, lang: 'fr' },
    { id: 'c', tags: ['x', 'y', 'z'], year: 2022 },
    { id: 'd', tags: 'x', year: 1e300 },
    { id: 'e', year: '2020' },
  ]

  beforeAll(async () => {
    db = await PGlite.create()
    await db.exec('create table c (id text primary key, metadata jsonb not null)')
    for (const row of rows) {
      await db.query('insert into c values ($1, $2::jsonb)', [row.id, JSON.stringify(row)])
    }
  })
  afterAll(async () => await db.close())

  async function ids(filter: unknown): Promise<string[]> {
    const params = new SqlParams()
    const condition = compileFilter(filter, 'c.metadata', params)
    const result = await db.query<{ id: string }>(
      `select id from c where ${condition} order by id`,
      params.values,
    )
    return result.rows.map((row) => row.id)
  }

  it.each([
    [{ tags: { $contains: 'x' } }, ['a', 'c']],
    [{ tags: { $contains: ['x', 'z'] } }, ['c']],
    [{ tags: { $in: ['z', 'q'] } }, ['c']],
    [{ tags: { $in: ['x'] } }, ['a', 'c', 'd']],
    [{ tags: { $nin: ['x'] } }, ['b', 'e']],
    [{ tags: ['x', 'y'] }, ['a']],
    [{ tags: { $eq: ['y'] } }, ['b']],
    [{ tags: { $ne: ['y'] } }, ['a', 'c', 'd', 'e']],
    [{ tags: [] }, []],
    [{ lang: { $in: ['en', 'fr'] } }, ['a', 'b']],
    [{ year: { $gte: 2021 } }, ['b', 'c', 'd']],
    [{ year: 2020 }, ['a']],
    [{ year: '2020' }, ['e']],
    [{ lang: { $exists: false } }, ['c', 'd', 'e']],
    [{ $or: [{ lang: 'fr' }, { year: { $lt: 2021 } }] }, ['a', 'b']],
  ])('%j matches %j', async (filter, expected) => {
    expect(await ids(filter)).toEqual(expected)
  })
})
