/**
 * `npm run bench:json`: what an answer of 10 matches x 384 numbers costs the functions to
 * write, in Deno: the vectors parsed from pgvector's text and printed again (as before), and
 * passed through as text (`stringifyJson`, as now); and the query vector's text
 * (`toVectorText`). Microseconds a call, the mean of 20,000 calls after 2,000 unmeasured.
 */
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
