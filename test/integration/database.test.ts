/**
 * The migrations at the SQL level: what each API role may do, Supabase's linter, the plan
 * of the search, and the generated types.
 */
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { explainFunctionQuery } from '../../stack/explain.ts'
import { generateDatabaseTypes } from '../../scripts/gen-types.ts'
import { databaseEnv, supabaseCli } from '../../stack/cli.ts'
import { stack } from '../support/http.ts'
import { withRowsForTheIndex } from '../support/planner.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
afterAll(() => sql.end())

/** Runs `statement` as `role` in a transaction that is always rolled back. */
async function asRole(role: string, statement: string): Promise<'ok' | string> {
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('role', ${role}, true)`
      await tx.unsafe(statement)
      throw new Rollback()
    })
    return 'ok'
  } catch (error) {
    if (error instanceof Rollback) return 'ok'
    return (error as { code?: string }).code ?? String(error)
  }
}
class Rollback extends Error {}

const STATEMENTS = {
  select: 'select count(*) from public.items',
  insert: "insert into public.items (embedding) values ('[1,2,3]')",
  update: "update public.items set embedding = '[1,1,1]'",
  delete: 'delete from public.items',
  match: "select * from public.match_items('[3,1,2]', 4)",
}

// What each role may do with the items table; 42501 is insufficient_privilege.
const EXPECTED: Record<string, Record<keyof typeof STATEMENTS, string>> = {
  anon: { select: 'ok', insert: '42501', update: '42501', delete: '42501', match: 'ok' },
  authenticated: { select: 'ok', insert: '42501', update: '42501', delete: '42501', match: 'ok' },
  service_role: { select: 'ok', insert: 'ok', update: '42501', delete: 'ok', match: 'ok' },
}

describe('grants and row-level security', () => {
  for (const [role, expected] of Object.entries(EXPECTED)) {
    it(`${role}: ${Object.entries(expected)
      .map(([op, result]) => `${op} ${result === 'ok' ? 'allowed' : 'denied'}`)
      .join(', ')}`, async () => {
      const actual: Record<string, string> = {}
      for (const [operation, statement] of Object.entries(STATEMENTS))
        actual[operation] = await asRole(role, statement)
      expect(actual).toEqual(expected)
    })
  }

  it('has row-level security on, with policies for every role', async () => {
    const [table] =
      await sql`select relrowsecurity from pg_class where oid = 'public.items'::regclass`
    expect(table!.relrowsecurity).toBe(true)
    const policies =
      await sql`select policyname, cmd, roles::text[] as roles from pg_policies where tablename = 'items' order by policyname`
    expect(policies.map((p) => `${p.cmd} ${p.roles.join(',')}`).sort()).toEqual([
      'DELETE service_role',
      'INSERT service_role',
      'SELECT anon,authenticated',
      'SELECT service_role',
    ])
  })

  it('declares match_items stable, security invoker, with a pinned search_path', async () => {
    const [fn] = await sql`
      select provolatile, prosecdef, proconfig from pg_proc where oid = 'public.match_items(extensions.vector, int)'::regprocedure`
    expect(fn!.provolatile).toBe('s')
    expect(fn!.prosecdef).toBe(false)
    expect(fn!.proconfig).toContain('search_path=""')
  })

  it('caps match_count at 200', async () => {
    const ids = await sql`
      insert into public.items (embedding)
      select array[i, 1, 1]::real[]::extensions.vector from generate_series(1, 250) i
      returning id`
    try {
      const [row] = await sql`select count(*)::int as n from public.match_items('[1,1,1]', 1000)`
      expect(row!.n).toBe(200)
    } finally {
      await sql`delete from public.items where id = any(${ids.map((r) => r.id)}::bigint[])`
    }
  })
})

describe('the search plan', () => {
  it('is served by the HNSW index', async () => {
    const plan = await withRowsForTheIndex(sql, () =>
      explainFunctionQuery(sql, 'public.match_items(extensions.vector, int)', ['[3,1,2]', 4]),
    )
    expect(plan.join('\n')).toContain('Index Scan using items_embedding_hnsw_idx on items')
  })

  it('uses the HNSW index with the tutorial parameters', async () => {
    const [index] =
      await sql`select pg_get_indexdef('public.items_embedding_hnsw_idx'::regclass) as def`
    expect(index!.def).toMatch(
      /USING hnsw \(embedding extensions\.vector_cosine_ops\) WITH \(m='?16'?, ef_construction='?64'?\)/,
    )
  })
})

describe('Supabase tooling', () => {
  it('passes the database linter (supabase db advisors)', async () => {
    const { stdout, stderr } = await supabaseCli(['db', 'advisors', `--remote=${stack.dbUrl}`], {
      env: databaseEnv(stack.dbUrl),
    })
    expect(`${stdout}${stderr}`).toContain('No issues found')
  })

  it('has committed database types that match the migrations', async () => {
    const committed = readFileSync(new URL('../../src/database.types.ts', import.meta.url), 'utf8')
    expect(await generateDatabaseTypes()).toBe(committed)
  })
})
