/**
 * Plans that name the HNSW index, on any tier. With a handful of rows and fresh statistics
 * (autovacuum analyzes the table on a native server; PGlite runs no autovacuum) the planner
 * rightly prefers a sequential scan and a sort; with a few thousand rows it takes the index.
 */
import type postgres from 'postgres'

/**
 * Runs `work` with 5000 more rows in `public.items`, analyzed; removes them afterwards. (2000
 * were too few once many tests had inserted and deleted rows: the index looked dearer.)
 */
export async function withRowsForTheIndex<T>(
  sql: postgres.Sql,
  work: () => Promise<T>,
): Promise<T> {
  const rows = await sql`
    insert into public.items (embedding)
    select array[random(), random(), random()]::real[]::extensions.vector
    from generate_series(1, 5000)
    returning id`
  await sql`analyze public.items`
  try {
    return await work()
  } finally {
    await sql`delete from public.items where id = any(${rows.map((row) => row.id)}::bigint[])`
    await sql`analyze public.items`
  }
}
