/**
 * `npm run bench:json`: what an answer of 10 matches x 384 numbers costs the functions to
 * write, in Deno: the vectors parsed from pgvector's text and printed again (as before), and
 * passed through as text (`stringifyJson`, as now); and what reading a search body's vector
 * costs: parsed and printed into pgvector's text (as before) or kept as the client wrote it
 * (`parseJsonInput` and `toVectorText`, as now), on 3,000 different bodies, since V8 caches
 * the numbers it printed last and printing one vector over and over measures that cache.
 * Microseconds a call, the mean of 20,000 calls after 2,000 unmeasured.
 */
import { parseJsonInput } from '../supabase/functions/_shared/json-input.ts'
import { JsonText, stringifyJson } from '../supabase/functions/_shared/json-text.ts'
import { fromVectorText, toVectorText } from '../supabase/functions/_shared/vector-values.ts'
import { seededRandom } from './dataset.ts'

// No options: --help prints what it measures, anything else is refused.
if (Deno.args.length > 0) {
  const help = Deno.args.length === 1 && Deno.args[0] === '--help'
  const usage =
    'usage: npm run bench:json\n\nWhat writing an answer of 10 matches x 384 numbers costs the functions, in µs a call.'
  if (help) console.log(usage)
  else
    console.error(`npm run bench:json: takes no options (see --help), not ${Deno.args.join(' ')}`)
  Deno.exit(help ? 0 : 1)
}

const random = seededRandom(7)
const DIMENSIONS = 384
const vector = () => Array.from({ length: DIMENSIONS }, () => Number((random() * 2 - 1).toFixed(4)))
const texts = Array.from({ length: 10 }, () => `[${vector().join(',')}]`)
const query = vector()

function measure(name: string, work: () => unknown, calls = 20_000): void {
  for (let i = 0; i < 2_000; i++) work()
  const started = performance.now()
  for (let i = 0; i < calls; i++) work()
  const us = ((performance.now() - started) / calls) * 1000
  console.log(`${name.padEnd(44)} ${us.toFixed(1).padStart(7)} µs`)
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
