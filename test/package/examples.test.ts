/**
 * examples/ run as a user runs them, importing the package by its name (Node resolves a
 * package's own name to its `exports`, i.e. the build `prepare` makes), against the test stack.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binary, ROOT } from '../../stack/paths.ts'
import { stack } from '../support/http.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const run = promisify(execFile)
const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const env = {
  ...process.env,
  API_URL: stack.apiUrl,
  ANON_KEY: stack.anonKey,
  SERVICE_ROLE_KEY: stack.serviceRoleKey,
  COLLECTION: 't_example',
}

function example(name: string) {
  return run(binary('tsx'), [path.join('examples', name)], { cwd: ROOT, env })
}

beforeAll(async () => {
  await run('npm', ['run', '-s', 'build'], { cwd: ROOT })
  await createCollection(sql, { name: 't_example', dimensions: 3 })
}, 120_000)
afterAll(async () => {
  await dropCollection(sql, 't_example')
  await sql.end()
})

describe('examples/', () => {
  it('type-check against the built package, as a user project would', async () => {
    const args = ['--ignoreConfig', '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022']
    args.push('--module', 'nodenext', '--lib', 'es2023,dom', '--types', 'node')
    await run(binary('tsc'), [...args, 'examples/quickstart.ts', 'examples/collection.ts'], {
      cwd: ROOT,
    })
  })

  it('quickstart.ts inserts and finds [3,1,2] first', async () => {
    const { stdout } = await example('quickstart.ts')
    expect(stdout).toMatch(/^inserted \d+, \d+, \d+; nearest to \[3,1,2\]:/)
    expect(stdout).toContain('embedding: [ 3, 1, 2 ], distance: 0')
  })

  it('collection.ts upserts, filters, patches, counts and lists', async () => {
    const { stdout } = await example('collection.ts')
    expect(stdout).toBe(
      "since 2015, nearest first: [ 'pgvector', 'HNSW' ]\nsince 2015 now: 3\nids: doc-1, doc-2, doc-3\n",
    )
    expect(await sql`select count(*)::int as n from public.t_example`).toEqual([{ n: 0 }])
  })
})
