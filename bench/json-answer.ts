/**
 * `npm run bench:json`: what an answer of 10 matches x 384 numbers costs the functions to
 * write, in Deno: the vectors parsed from pgvector's text and printed again (as before), and
 * passed through as text (`stringifyJson`, as now); and what reading a search body's vector
 * costs: parsed and printed into pgvector's text (as before) or kept as the client wrote it
 * (`parseJsonInput` and `toVectorText`, as now), on 3,000 different bodies, since V8 caches
 * the numbers it printed last and printing one vector over and over measures that cache.
 * Microseconds a call, the mean of 20,000 calls after 2,000 unmeasured (20 after 2 for an
 * upsert of 1,000 records).
 */
import { parseJsonInput } from '../supabase/functions/_shared/json-input.ts'
import { JsonText, stringifyJson } from '../supabase/functions/_shared/json-text.ts'
import { recordNumberArrays } from '../supabase/functions/_shared/number-text.ts'
import { fromVectorText, toVectorText } from '../supabase/functions/_shared/vector-values.ts'
import { seededRandom } from './dataset.ts'
import { refuseOptions } from './no-options.ts'

refuseOptions(
  'npm run bench:json',
  'What writing an answer of 10 matches x 384 numbers costs the functions, in µs a call.',
  Deno.args,
  Deno.exit,
)

const random = seededRandom(7)
const DIMENSIONS = 384
const vector = () => Array.from({ length: DIMENSIONS }, () => Number((random() * 2 - 1).toFixed(4)))
const texts = Array.from({ length: 10 }, () => `[${vector().join(',')}]`)
const query = vector()

function measure(name: string, work: () => unknown, calls = 20_000): void {
  for (let i = 0; i < calls / 10; i++) work()
  const started = performance.now()
  for (let i = 0; i < calls; i++) work()
  const us = ((performance.now() - started) / calls) * 1000
  console.log(`${name.padEnd(52)} ${us.toFixed(1).padStart(7)} µs`)
}

const matches = (values: (text: string) => unknown) =>
  texts.map((text, i) => ({ id: String(i), distance: i / 10, values: values(text) }))

console.log(`an answer of 10 matches x ${DIMENSIONS} numbers, Deno ${Deno.version.deno}`)
measure('parsed and printed again (JSON.stringify)', () =>
  JSON.stringify({ matches: matches((text) => fromVectorText('vector', text)) }),
)
measure('passed through (stringifyJson, JsonText)', () =>
  stringifyJson({ matches: matches((text) => new JsonText(text)) }),
)
measure(`the query vector's text (toVectorText)`, () =>
  toVectorText(
    { type: 'vector', dimensions: DIMENSIONS, indexed: true, metric: 'cosine' },
    query,
    'vector',
  ),
)

// Search bodies as a client sends them: 384 numbers of 8 significant digits, 3,000 of them.
const bodies = Array.from({ length: 3_000 }, () =>
  JSON.stringify({
    vector: Array.from({ length: DIMENSIONS }, () => Number((random() * 2 - 1).toPrecision(8))),
    topK: 10,
  }),
)
let next = 0
const body = () => bodies[next++ % bodies.length]!
const shape = { type: 'vector', dimensions: DIMENSIONS, indexed: true, metric: 'cosine' } as const
measure('a search body, its vector printed again', () => {
  const { vector } = JSON.parse(body()) as { vector: number[] }
  return `[${vector.join(',')}]`
})
measure('a search body, its vector kept as sent', () => {
  const { vector } = parseJsonInput(body()) as { vector: unknown }
  return toVectorText(shape, vector, 'vector')
})
const same = (JSON.parse(bodies[0]!) as { vector: number[] }).vector
measure('one vector printed over and over (V8 cache)', () => `[${same.join(',')}]`)

// An upsert of 1,000 such records, with a little metadata: what the scan for the vectors'
// text costs on the largest body a route takes, against what it saves, printing every vector.
const upserts = Array.from({ length: 4 }, (_, u) =>
  JSON.stringify({
    records: Array.from({ length: 1_000 }, (_, i) => ({
      id: `r${u}-${i}`,
      values: Array.from({ length: DIMENSIONS }, () => Number((random() * 2 - 1).toPrecision(8))),
      metadata: { lang: 'en', tags: ['a', 'b'], year: 2000 + (i % 25) },
    })),
  }),
)
const parsedUpserts = upserts.map((text) => JSON.parse(text) as Upsert)
type Upsert = { records: { values: number[] }[] }
let nextUpsert = 0
measure(
  'an upsert of 1,000 records, its vectors printed again',
  () => parsedUpserts[nextUpsert++ % 4]!.records.map((record) => `[${record.values.join(',')}]`),
  20,
)
measure(
  'an upsert of 1,000 records, the scan for their text',
  () => {
    const at = nextUpsert++ % 4
    recordNumberArrays(upserts[at]!, parsedUpserts[at])
  },
  20,
)
