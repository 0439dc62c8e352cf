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
  // Each piece is stood in for by a string no answer can otherwise hold (a NUL, which neither
  // Postgres text nor jsonb stores, and a nonce), then put back in one pass.
  let nonce = ''
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (!(item instanceof JsonText)) return item
    nonce ||= crypto.randomUUID()
    texts.push(item.text)
    return `\u0000${nonce}:${texts.length - 1}`
  })
  if (texts.length === 0) return json
  const placeholder = new RegExp(`"\\\\u0000${nonce}:(\\d+)"`, 'g')
  return json.replace(placeholder, (_match, index: string) => texts[Number(index)]!)
}
