/**
 * Each route of the vectors function: what it does, who may call it, and bad input answered
 * with a clear 4xx that writes nothing (row count and checksum unchanged).
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../../supabase/functions/_shared/contract.ts'
import { databaseEnv, supabaseCli } from '../../stack/cli.ts'
import { ROOT, SUPABASE_DIR } from '../../stack/paths.ts'
import { functionUrl, post, stack } from '../support/http.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_routes'
const admin = { key: stack.serviceRoleKey }

/** Row count and a checksum of every column a write could change. */
async function snapshot(table = NAME): Promise<{ count: number; checksum: string | null }> {
  const [row] = await sql.unsafe(
    `select count(*)::int as count,
       md5(string_agg(id || embedding::text || metadata::text || updated_at::text, '|' order by id)) as checksum
     from public.${table}`,
  )
  return { count: row!.count, checksum: row!.checksum }
}

beforeAll(async () => {
  await createCollection(sql, { name: NAME, dimensions: 3 })
  const { status } = await post(
    `vectors/${NAME}/upsert`,
    {
      records: [
        { id: 'a', values: [1, 0, 0], metadata: { kind: 'x', n: 1 } },
        { id: 'b', values: [0, 1, 0], metadata: { kind: 'y', n: 2 } },
        { id: 'c', values: [0, 0, 1] },
      ],
    },
    admin,
  )
  expect(status).toBe(200)
})
afterAll(async () => {
  await dropCollection(sql, NAME)
  await sql.end()
})

describe('upsert', () => {
  it('inserts new ids and replaces existing ones, values and metadata', async () => {
    const [before] = await sql.unsafe(`select updated_at from public.${NAME} where id = 'a'`)
    const { body } = await post(
      `vectors/${NAME}/upsert`,
      {
        records: [
          { id: 'a', values: [1, 1, 0], metadata: { kind: 'z' } },
          { id: 'd', values: [1, 1, 1] },
        ],
      },
      admin,
    )
    expect(body).toEqual({ upserted: 2 })
    const fetched = await post(`vectors/${NAME}/fetch`, { ids: ['a', 'd'] })
    expect(fetched.body.records).toEqual([
      { id: 'a', values: [1, 1, 0], metadata: { kind: 'z' } },
      { id: 'd', values: [1, 1, 1], metadata: {} },
    ])
    const [after] = await sql.unsafe(`select updated_at from public.${NAME} where id = 'a'`)
    expect(after!.updated_at.getTime()).toBeGreaterThan(before!.updated_at.getTime())
  })

  it('needs service_role (403 for anon), writing nothing', async () => {
    const before = await snapshot()
    const { status, body } = await post(`vectors/${NAME}/upsert`, {
      records: [{ id: 'e', values: [1, 2, 3] }],
    })
    expect(status).toBe(403)
    expect(body.error.code).toBe('forbidden')
    expect(await snapshot()).toEqual(before)
  })

  it.each([
    [
      'a wrong dimension',
      { records: [{ id: 'e', values: [1, 2] }] },
      400,
      'dimension_mismatch',
      'records.0.values: expected 3 dimensions, not 2',
    ],
    [
      'a later bad record (all or nothing)',
      {
        records: [
          { id: 'e', values: [1, 2, 3] },
          { id: 'f', values: [1, 'x', 3] },
        ],
      },
      400,
      'invalid_request',
      'records.1.values.1: expected a finite number',
    ],
    [
      'a float4 overflow',
      { records: [{ id: 'e', values: [1e39, 2, 3] }] },
      400,
      'invalid_request',
      'records.0.values.0: out of range for a float4 element',
    ],
    [
      'bits for a vector',
      { records: [{ id: 'e', values: '101' }] },
      400,
      'invalid_request',
      'records.0.values: expected an array of 3 numbers',
    ],
    [
      'duplicate ids',
      {
        records: [
          { id: 'e', values: [1, 2, 3] },
          { id: 'e', values: [1, 2, 3] },
        ],
      },
      400,
      'invalid_request',
      'records.1.id: duplicate id "e" in one batch',
    ],
    [
      'an empty id',
      { records: [{ id: '', values: [1, 2, 3] }] },
      400,
      'invalid_request',
      'records.0.id: expected a non-empty id',
    ],
    [
      'a NUL in an id',
      { records: [{ id: 'a\u0000b', values: [1, 2, 3] }] },
      400,
      'invalid_request',
      'records.0.id: ids cannot contain NUL characters',
    ],
    [
      'a NUL in metadata',
      { records: [{ id: 'e', values: [1, 2, 3], metadata: { s: 'a\u0000' } }] },
      400,
      'invalid_request',
      'records.0.metadata.s: strings cannot contain NUL characters',
    ],
    [
      'metadata that is not an object',
      { records: [{ id: 'e', values: [1, 2, 3], metadata: [1] }] },
      400,
      'invalid_request',
      'records.0.metadata: expected a JSON object',
    ],
    ['no records', { records: [] }, 400, 'invalid_request', 'records: expected at least 1 record'],
    [
      'an unknown key',
      { records: [{ id: 'e', values: [1, 2, 3], vector: [1] }] },
      400,
      'invalid_request',
      'records.0: unknown key "vector"',
    ],
  ])('refuses %s, writing nothing', async (_, body, status, code, message) => {
    const before = await snapshot()
    const answer = await post(`vectors/${NAME}/upsert`, body, admin)
    expect(answer.status).toBe(status)
    expect(answer.body.error).toEqual({ code, message })
    expect(await snapshot()).toEqual(before)
  })

  it('refuses a body over the size limit (413), writing nothing', async () => {
    const before = await snapshot()
    const huge = JSON.stringify({
      records: [{ id: 'e', values: [1, 2, 3], metadata: { pad: 'x'.repeat(MAX_BODY_BYTES) } }],
    })
    const answer = await post(`vectors/${NAME}/upsert`, huge, admin)
    expect(answer.status).toBe(413)
    expect(await snapshot()).toEqual(before)
  })
})

describe('fetch', () => {
  it('answers records in the order asked, leaving out missing ids', async () => {
    const { status, body } = await post(`vectors/${NAME}/fetch`, { ids: ['c', 'nope', 'b'] })
    expect(status).toBe(200)
    expect(body.records.map((r: { id: string }) => r.id)).toEqual(['c', 'b'])
    expect(body.records[1]).toEqual({ id: 'b', values: [0, 1, 0], metadata: { kind: 'y', n: 2 } })
  })

  it('refuses bad ids (400)', async () => {
    expect((await post(`vectors/${NAME}/fetch`, { ids: [] })).body.error.message).toBe(
      'ids: expected at least 1 id',
    )
    expect((await post(`vectors/${NAME}/fetch`, { ids: [1] })).body.error.message).toBe(
      'ids.0: expected a string id',
    )
  })
})

describe('query', () => {
  it('answers nearest first, with metadata by default and values on request', async () => {
    const { body } = await post(`vectors/${NAME}/query`, { vector: [0, 1, 0], topK: 2 })
    expect(body.matches[0]).toEqual({ id: 'b', distance: 0, metadata: { kind: 'y', n: 2 } })
    const bare = await post(`vectors/${NAME}/query`, {
      vector: [0, 1, 0],
      topK: 1,
      includeMetadata: false,
      includeValues: true,
    })
    expect(bare.body.matches).toEqual([{ id: 'b', distance: 0, values: [0, 1, 0] }])
  })

  it('queries by the stored vector of an id', async () => {
    const { body } = await post(`vectors/${NAME}/query`, { id: 'c', topK: 1 })
    expect(body.matches[0].id).toBe('c')
    const missing = await post(`vectors/${NAME}/query`, { id: 'nope' })
    expect(missing.status).toBe(404)
    expect(missing.body.error.message).toBe(`record "nope" not found in "${NAME}"`)
  })

  it.each([
    [{ topK: 3 }, 'expected either "vector" or "id"'],
    [{ vector: [1, 0, 0], id: 'a' }, 'expected either "vector" or "id"'],
    [{ vector: [1, 0, 0], topK: 1001 }, 'topK: expected at most 1000'],
    [{ vector: [1, 0, 0], efSearch: 0 }, 'efSearch: expected at least 1'],
    [{ vector: [1, 0, 0], efSearch: 1001 }, 'efSearch: expected at most 1000'],
    [
      { vector: [1, 0, 0], probes: 3 },
      `probes: applies to ivfflat indexes; "${NAME}" has hnsw: use efSearch`,
    ],
    [{ vector: [1, 0, 0], scan: 'fast' }, 'scan: expected "auto", "index" or "exact"'],
  ])('refuses %j (400)', async (body, message) => {
    const answer = await post(`vectors/${NAME}/query`, body)
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toBe(message)
  })
})

describe('delete', () => {
  it('deletes by ids and by filter, and refuses an empty filter', async () => {
    await post(
      `vectors/${NAME}/upsert`,
      {
        records: [
          { id: 'x1', values: [1, 2, 3], metadata: { temp: true } },
          { id: 'x2', values: [3, 2, 1], metadata: { temp: true } },
          { id: 'x3', values: [1, 1, 2] },
        ],
      },
      admin,
    )
    expect((await post(`vectors/${NAME}/delete`, { ids: ['x3', 'nope'] }, admin)).body).toEqual({
      deleted: 1,
    })
    expect((await post(`vectors/${NAME}/delete`, { filter: { temp: true } }, admin)).body).toEqual({
      deleted: 2,
    })
    const before = await snapshot()
    const empty = await post(`vectors/${NAME}/delete`, { filter: {} }, admin)
    expect(empty).toMatchObject({
      status: 400,
      body: {
        error: { code: 'invalid_filter', message: 'filter: expected at least one condition' },
      },
    })
    const both = await post(`vectors/${NAME}/delete`, { ids: ['a'], filter: { kind: 'x' } }, admin)
    expect(both.status).toBe(400)
    expect(await snapshot()).toEqual(before)
  })

  it('needs service_role', async () => {
    const before = await snapshot()
    expect((await post(`vectors/${NAME}/delete`, { ids: ['a'] })).status).toBe(403)
    expect(await snapshot()).toEqual(before)
  })
})

describe('describe and routing', () => {
  it('describes the collection to any API role', async () => {
    const response = await fetch(functionUrl(`vectors/${NAME}/describe`), {
      headers: { apikey: stack.anonKey },
    })
    expect(await response.json()).toMatchObject({
      name: NAME,
      dimensions: 3,
      type: 'vector',
      metric: 'cosine',
      index: 'hnsw',
    })
  })

  it('answers 404 for an unknown collection or route, 405 for a wrong method', async () => {
    const unknown = await post('vectors/nope/query', { vector: [1] })
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: 'collection "nope" not found' } },
    })
    expect((await post('vectors/items/query', { vector: [1, 2, 3] })).status).toBe(404)
    expect((await post(`vectors/${NAME}/search`, {})).status).toBe(404)
    expect((await post(`vectors/${NAME}/describe`, {})).status).toBe(405)
    const get = await fetch(functionUrl(`vectors/${NAME}/query`), {
      headers: { apikey: stack.anonKey },
    })
    expect(get.status).toBe(405)
  })

  it('needs a key (401)', async () => {
    expect((await post(`vectors/${NAME}/query`, { vector: [1, 0, 0] }, { key: null })).status).toBe(
      401,
    )
  })
})

describe('a collection made again with another shape', () => {
  it('is served with its new shape, not the cached one, and a dropped one is 404', async () => {
    const name = 't_reshaped'
    await createCollection(sql, { name, dimensions: 3 })
    const upsert = (values: number[]) =>
      post(`vectors/${name}/upsert`, { records: [{ id: 'a', values }] }, admin)
    expect((await upsert([1, 2, 3])).status).toBe(200) // the shape is cached now
    await createCollection(sql, { name, dimensions: 5, metric: 'l2' })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const reshaped = await upsert([1, 2, 3, 4, 5])
    expect(reshaped.status).toBe(200)
    const query = await post(`vectors/${name}/query`, { vector: [1, 2, 3, 4, 5], topK: 1 })
    expect(query.body.matches).toEqual([expect.objectContaining({ id: 'a', distance: 0 })])
    // A caller's own mistake is still answered as one.
    expect((await upsert([1, 2, 3])).body.error.message).toBe(
      'records.0.values: expected 5 dimensions, not 3',
    )
    await dropCollection(sql, name)
    const gone = await post(`vectors/${name}/query`, { vector: [1, 2, 3, 4, 5] })
    expect([gone.status, gone.body.error.code]).toEqual([404, 'not_found'])
  })
})

describe('type-specific values', () => {
  it('checks sparse vectors and bit strings by their own rules', async () => {
    await createCollection(sql, {
      name: 't_sparse',
      dimensions: 5,
      type: 'sparsevec',
      metric: 'l2',
    })
    await createCollection(sql, { name: 't_bits', dimensions: 4, type: 'bit' })
    try {
      const bad = async (name: string, values: unknown) =>
        (await post(`vectors/${name}/upsert`, { records: [{ id: 'a', values }] }, admin)).body.error
      expect(await bad('t_sparse', { indices: [0, 5], values: [1, 2], dimensions: 5 })).toEqual({
        code: 'invalid_request',
        message: 'records.0.values.indices.1: expected an integer index from 0 to 4',
      })
      expect(await bad('t_sparse', { indices: [1, 1], values: [1, 2], dimensions: 5 })).toEqual({
        code: 'invalid_request',
        message: 'records.0.values.indices: index 1 appears twice',
      })
      expect(await bad('t_sparse', { indices: [1], values: [1], dimensions: 6 })).toEqual({
        code: 'dimension_mismatch',
        message: 'records.0.values: expected 5 dimensions, not 6',
      })
      expect(await bad('t_bits', '10x1')).toEqual({
        code: 'invalid_request',
        message: 'records.0.values: expected a string of 0 and 1, found "x" at 2',
      })
      expect(await bad('t_bits', [true, false])).toEqual({
        code: 'dimension_mismatch',
        message: 'records.0.values: expected 4 dimensions, not 2',
      })
      const ok = await post(
        'vectors/t_bits/upsert',
        { records: [{ id: 'a', values: [true, false, true, true] }] },
        admin,
      )
      expect(ok.body).toEqual({ upserted: 1 })
      expect((await post('vectors/t_bits/fetch', { ids: ['a'] })).body.records[0].values).toBe(
        '1011',
      )
    } finally {
      await dropCollection(sql, 't_sparse')
      await dropCollection(sql, 't_bits')
    }
  })
})

describe('npm run collection:new', () => {
  it('writes a migration that supabase db push applies and the vectors function serves', async () => {
    const workdir = mkdtempSync(path.join(tmpdir(), 'matchbox-collection-'))
    cpSync(SUPABASE_DIR, path.join(workdir, 'supabase'), { recursive: true })
    try {
      const run = promisify(execFile)
      const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx')
      const args = [
        'scripts/collection-new.ts',
        'cli_docs',
        '--dimensions',
        '4',
        '--metric',
        'l2',
        '--index',
        'ivfflat',
        '--lists',
        '2',
        `--workdir=${workdir}`,
      ]
      const { stdout } = await run(tsx, args, { cwd: ROOT })
      expect(stdout).toContain('vector(4), l2, ivfflat')
      const file = readdirSync(path.join(workdir, 'supabase', 'migrations')).find((f) =>
        f.endsWith('_collection_cli_docs.sql'),
      )!
      expect(readFileSync(path.join(workdir, 'supabase', 'migrations', file), 'utf8')).toContain(
        'using ivfflat (embedding extensions.vector_l2_ops)',
      )

      const refused = await run(
        tsx,
        ['scripts/collection-new.ts', 'cli_docs', '--dimensions', '4', `--workdir=${workdir}`],
        { cwd: ROOT },
      ).catch((e: { stderr: string; code: number }) => e)
      expect(refused).toMatchObject({
        code: 1,
        stderr:
          'npm run collection:new: a table named "cli_docs" already exists in supabase/migrations\n',
      })

      await supabaseCli(
        ['db', 'push', `--remote=${stack.dbUrl}`, '--yes', `--workdir=${workdir}`],
        { env: databaseEnv(stack.dbUrl) },
      )
      const upsert = await post(
        'vectors/cli_docs/upsert',
        { records: [{ id: 'p', values: [1, 2, 3, 4] }] },
        admin,
      )
      expect(upsert.body).toEqual({ upserted: 1 })
      const { body } = await post('vectors/cli_docs/query', { vector: [1, 2, 3, 4], topK: 1 })
      expect(body.matches[0]).toMatchObject({ id: 'p', distance: 0 })
      // The RPC function the migration made, as supabase.rpc would call it.
      const rpc = await sql`select id, distance from public.match_cli_docs('[1,2,3,4]', 5, '{}')`
      expect(rpc).toEqual([{ id: 'p', distance: 0 }])
      expect(
        await post('vectors/cli_docs/query', { vector: [1, 2, 3, 4], efSearch: 10 }),
      ).toMatchObject({ status: 400 })
    } finally {
      await dropCollection(sql, 'cli_docs')
      await sql`delete from supabase_migrations.schema_migrations where name = 'collection_cli_docs'`
      rmSync(workdir, { recursive: true, force: true })
    }
  })
})

describe('query explain', () => {
  it('answers the plan and the scan used, to service_role only', async () => {
    const { status, body } = await post(
      `vectors/${NAME}/query`,
      { vector: [1, 0, 0], topK: 2, explain: true, scan: 'index' },
      admin,
    )
    expect(status).toBe(200)
    expect(body.scan).toBe('index')
    expect(body.plan.join('\n')).toContain(`Index Scan using ${NAME}_embedding_idx`)
    const exact = await post(
      `vectors/${NAME}/query`,
      { vector: [1, 0, 0], explain: true, scan: 'exact' },
      admin,
    )
    expect(exact.body.scan).toBe('exact')
    expect(exact.body.plan.join('\n')).not.toContain(`${NAME}_embedding_idx`)
    const anon = await post(`vectors/${NAME}/query`, { vector: [1, 0, 0], explain: true })
    expect(anon).toMatchObject({
      status: 403,
      body: { error: { message: 'explain: needs the service_role key' } },
    })
  })
})
