/**
 * `npm run bench:request`: what the parts of handling one search request cost inside
 * `Deno.serve`, timed around each part over 5,000 requests of a 384-number search body (sent
 * by this process's own `fetch`, 8 at a time): copying the request as the gateway did, reading
 * its body, making the answer with the functions' eight headers or with one. Microseconds a
 * request, the mean.
 */
import { CORS_HEADERS } from '../supabase/functions/_shared/http.ts'
import { seededRandom } from './dataset.ts'
import { refuseOptions } from './no-options.ts'

refuseOptions(
  'npm run bench:request',
  'What the parts of handling a search request cost inside Deno.serve, in µs a request.',
  Deno.args,
  Deno.exit,
)

const REQUESTS = 5_000
const spent = new Map<string, number>()
function time<T>(part: string, work: () => T): T {
  const started = performance.now()
  const result = work()
  spent.set(part, (spent.get(part) ?? 0) + performance.now() - started)
  return result
}

const answer = '{"matches":[]}'
const server = Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: () => {} },
  async (request) => {
    const url = time('new URL(request.url)', () => new URL(request.url))
    time('a header read', () => request.headers.get('authorization'))
    const started = performance.now()
    const body = await request.arrayBuffer()
    spent.set('the body read', (spent.get('the body read') ?? 0) + performance.now() - started)
    time(
      'a copy: new Request(url, { method, headers, body })',
      () =>
        new Request(new URL('/vectors/c/query', url), {
          method: request.method,
          headers: request.headers,
          body,
        }),
    )
    time(
      'a Response with one header',
      () => new Response(answer, { headers: { 'content-type': 'application/json' } }),
    )
    return time(
      "a Response with the functions' eight headers",
      () =>
        new Response(answer, { headers: { ...CORS_HEADERS, 'content-type': 'application/json' } }),
    )
  },
)

const random = seededRandom(11)
const key = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' + 'x'.repeat(120) + '.' + 'y'.repeat(43)
let sent = 0
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (sent++ < REQUESTS) {
      const vector = Array.from({ length: 384 }, () => Number((random() * 2 - 1).toPrecision(8)))
      const response = await fetch(
        `http://127.0.0.1:${server.addr.port}/functions/v1/vectors/c/query`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            apikey: key,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ vector, topK: 10 }),
        },
      )
      await response.text()
    }
  }),
)
await server.shutdown()
console.log(
  `the parts of one search request in Deno.serve, Deno ${Deno.version.deno}, ${REQUESTS} requests`,
)
for (const [part, ms] of spent) {
  console.log(`${part.padEnd(52)} ${((ms / REQUESTS) * 1000).toFixed(1).padStart(7)} µs`)
}
