/**
 * The `minimal` layer's server: a bare `Deno.serve` and postgres.js running the raw search in
 * the transaction form the functions use (role, claims and `ef_search` set for the
 * transaction), with no auth, no validation and no framework: the limit of one HTTP hop on
 * this machine, which the functions' own cost is read against.
 *
 * Usage (bench/layers.ts starts it): deno run --config=supabase/functions/deno.json
 *   --allow-net --allow-env bench/minimal-server.ts, with MINIMAL_DB_URL, MINIMAL_PORT,
 *   MINIMAL_POOL_SIZE and MINIMAL_STATEMENT (the search, `$1` the vector's text) set.
 * Prints `{"ready":true}` when it listens; exits when its stdin closes (its parent is gone).
 *
 * POST / {"embedding":[…],"efSearch":40} answers {"matches":[{"id","embedding","distance"}]}
 * (the body as the bench writes it: the embedding is its only array).
 */
import postgres from 'postgres'

/** The part of Deno's API used here, typed here: tsc checks bench/ with no Deno types. */
interface DenoApi {
  env: { get(name: string): string | undefined }
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown
  stdin: { readable: ReadableStream<Uint8Array> }
  exit(code: number): never
}
const deno = (globalThis as unknown as { Deno: DenoApi }).Deno

const env = (name: string): string => {
  const value = deno.env.get(name)
  if (!value) throw new Error(`set ${name}`)
  return value
}

const statement = env('MINIMAL_STATEMENT')
const sql = postgres(env('MINIMAL_DB_URL'), {
  max: Number(env('MINIMAL_POOL_SIZE')),
  onnotice: () => {},
  fetch_types: false,
  connection: { application_name: 'matchbox-bench-minimal' },
})
const claims = JSON.stringify({ role: 'anon' })
const awaitBegin = deno.env.get('MINIMAL_AWAIT_BEGIN') === '1'

interface Row {
  id: string
  embedding: string
  distance: number
}

/**
 * One transaction in one write, on a reserved connection: begin, the settings, the search
 * and commit are all sent before any answer is read, so a request is one round trip. On
 * PGlite (MINIMAL_AWAIT_BEGIN=1) `begin` is awaited first, as the functions do there.
 */
async function search(vector: string, efSearch: string): Promise<Row[]> {
  const connection = await sql.reserve()
  try {
    if (awaitBegin) await connection.unsafe('begin')
    const [, , rows] = await Promise.all([
      awaitBegin ? undefined : connection.unsafe('begin'),
      connection.unsafe(
        `select set_config('role', 'anon', true), set_config('request.jwt.claims', $1, true),
          set_config('hnsw.ef_search', $2, true), set_config('hnsw.iterative_scan', 'strict_order', true)`,
        [claims, efSearch],
        { prepare: true },
      ),
      connection.unsafe<Row[]>(statement, [vector], { prepare: true }),
      connection.unsafe('commit'),
    ])
    return rows
  } finally {
    connection.release()
  }
}

// Every connection opened before the first request: postgres.js's reserve() on a pool that
// has opened none waits for ever (seen with 3.4.x under Deno).
const poolSize = Number(env('MINIMAL_POOL_SIZE'))
await Promise.all(Array.from({ length: poolSize }, () => sql`select 1`))

deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(env('MINIMAL_PORT')),
    onListen: () => console.log(JSON.stringify({ ready: true })),
  },
  async (request) => {
    try {
      // The body is parsed (for efSearch) but the vector is not printed again: its text goes
      // to the database as the client wrote it, as the functions send it (number-text.ts).
      // Printing 384 fresh doubles costs 87 µs (npm run bench:json), which a bare server need not pay either.
      const text = await request.text()
      const { efSearch } = JSON.parse(text) as { efSearch: number }
      const start = text.indexOf('[')
      const rows = await search(text.slice(start, text.indexOf(']', start) + 1), String(efSearch))
      // pgvector's text form is JSON already: it goes out as the database wrote it.
      const matches = rows.map(
        (row) => `{"id":${row.id},"embedding":${row.embedding},"distance":${row.distance}}`,
      )
      return new Response(`{"matches":[${matches.join(',')}]}`, {
        headers: { 'content-type': 'application/json' },
      })
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 })
    }
  },
)

// The benchmark holds our stdin: when it is gone, so are we.
const stdin = deno.stdin.readable.getReader()
while (!(await stdin.read()).done) {
  // Nothing is sent; the loop ends when stdin closes.
}
deno.exit(0)
