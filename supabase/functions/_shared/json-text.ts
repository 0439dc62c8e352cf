/**
 * JSON text the database wrote, carried through to the answer as it is. pgvector prints a
 * `vector` or `halfvec` as a JSON array and Postgres prints `jsonb` as JSON: parsing them only
 * to print them again cost a fifth of the functions' CPU per search (measured, docs/performance.md).
 */

/** A piece of JSON text, written into an answer verbatim wherever it sits in the body. */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * `JSON.stringify`, except that every `JsonText` in `value` is written as its text.
 *
 * @example
 * stringifyJson({ values: new JsonText('[1,2]') }) // '{"values":[1,2]}'
 */
export function stringifyJson(value: unknown): string {
  if (value instanceof JsonText) return value.text
  const texts: string[] = []
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (!(item instanceof JsonText)) return item
    texts.push(item.text)
    return STAND_IN
  })
  if (texts.length === 0) return json
  // The pieces come back in the order JSON.stringify met them: one split puts them back.
  const parts = json.split(STAND_IN_WRITTEN)
  if (parts.length !== texts.length + 1) throw new Error('a JSON stand-in was written twice')
  let text = parts[0]!
  for (let i = 0; i < texts.length; i++) text += texts[i]! + parts[i + 1]!
  return text
}

// What stands in for each piece while the rest is printed: a string no answer can otherwise
// hold (a NUL, which neither Postgres text nor jsonb stores, then a nonce of this process).
const STAND_IN = `\u0000${crypto.randomUUID()}`
const STAND_IN_WRITTEN = JSON.stringify(STAND_IN)
