/**
 * EXPLAIN of the query inside a SQL function, as the function runs it: its body from the
 * catalog, its parameters bound, its own settings (`set …` clauses) in force.
 *
 * A plain `explain select * from f(…)` shows only a Function Scan, because a function with
 * settings is not inlined; this shows the plan of the statement inside.
 */
import type postgres from 'postgres'

/**
 * The plan lines of `fn`'s query for `args`.
 *
 * @example
 * await explainFunctionQuery(sql, 'public.match_items(extensions.vector, int)', ['[3,1,2]', 4])
 */
export async function explainFunctionQuery(
  sql: postgres.Sql,
  signature: string,
  args: readonly (string | number)[],
): Promise<string[]> {
  const [fn] = await sql<
    { body: string; names: string[]; types: string[]; settings: string[] | null }[]
  >`
    select p.prosrc as body, p.proconfig as settings,
      (p.proargnames)[1:p.pronargs] as names,
      array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes) as t) as types
    from pg_catalog.pg_proc p
    where p.oid = ${signature}::regprocedure and p.prolang = (select oid from pg_catalog.pg_language where lanname = 'sql')`
  if (!fn) throw new Error(`${signature} is not a SQL function`)

  let query = fn.body.trim().replace(/;\s*$/, '')
  // Input parameters only: a `returns table` function also names its output columns.
  fn.names.forEach((name, index) => {
    // A parameter is a bare name, never a column qualified by a table (`items.embedding`).
    query = query.replace(
      new RegExp(`(?<![.\\w])${name}(?!\\w)`, 'g'),
      `$${index + 1}::${fn.types[index]}`,
    )
  })

  return sql.begin(async (tx) => {
    for (const setting of fn.settings ?? []) {
      const [name, ...value] = setting.split('=')
      await tx`select set_config(${name!}, ${value.join('=')}, true)`
    }
    const rows = await tx.unsafe(`explain ${query}`, [...args])
    return rows.map((row) => String(row['QUERY PLAN']))
  }) as Promise<string[]>
}
