/**
 * The JSON text of a body's arrays of numbers, kept beside the arrays JSON.parse built from
 * it: a vector's elements are written into SQL as the client wrote them, not printed again.
 *
 * Printing a double costs about 0.2 µs, so a 384-dimension vector took 87 µs to turn back
 * into text (`npm run bench:json`, fresh numbers: V8 caches the last numbers it printed, and a
 * benchmark that prints the same vector again sees 12 µs). JSON's numbers are valid input
 * for pgvector's `vector` and `halfvec` (strtof), so the client's own text serves as it is.
 */

/** The source text of each array of numbers a parsed body holds. */
const sources = new WeakMap<readonly unknown[], string>()

/** The JSON text `array` was parsed from, if it is a body's array of numbers. */
export function numberArrayText(array: readonly unknown[]): string | undefined {
  return sources.get(array)
}

/** `[`, numbers, commas and JSON whitespace, `]`: an array holding numbers only. */
const NUMBER_ARRAY = /\[[-+.\deE,\s]*\]/y
const SPACE = /[ \t\n\r]*/y

/**
 * Most arrays a body's text is scanned for: a body with more (millions of tiny arrays fit in
 * its 8 MiB) gets no texts recorded, and its vectors are printed as before.
 */
const MAX_ARRAYS = 10_000

/** An array found in the text: its path, and its text if it holds numbers only. */
interface Found {
  path: (string | number)[]
  text: string | undefined
}

/**
 * Finds every array in `text` (valid JSON, nested at most as deep as the caller allows,
 * which `value` was parsed from) and records the text of each array of numbers for the
 * array at the same path in `value`. Paths are followed in `value` rather than matched by
 * order, so object key order (integer-like keys come first in JS) cannot pair a text with the
 * wrong array; and every array at a path counts, in order, so that with a repeated key the
 * last one decides in both, as JSON.parse decides (`{"a":[1],"a":["x"]}` leaves no text).
 */
export function recordNumberArrays(text: string, value: unknown): void {
  const found: Found[] = []
  if (scan(text, 0, [], found) < 0) return // too many arrays: none recorded
  for (const { path, text: source } of found) {
    let target: unknown = value
    for (const step of path) {
      if (target === null || typeof target !== 'object' || !Object.hasOwn(target, step)) {
        target = undefined
        break
      }
      target = (target as Record<string | number, unknown>)[step]
    }
    if (!Array.isArray(target)) continue
    if (source === undefined) sources.delete(target)
    else sources.set(target, source)
  }
}

/** Scans the value at `start`; answers the position after it, or -1 past `MAX_ARRAYS`. */
function scan(text: string, start: number, path: (string | number)[], found: Found[]): number {
  let at = skipSpace(text, start)
  const c = text.charCodeAt(at)
  if (c === 0x5b /* [ */) {
    if (found.length >= MAX_ARRAYS) return -1
    NUMBER_ARRAY.lastIndex = at
    if (NUMBER_ARRAY.test(text)) {
      const end = NUMBER_ARRAY.lastIndex
      // An empty array has no vector in it: no text for it.
      const empty = text.slice(at + 1, end - 1).trim() === ''
      found.push({ path: [...path], text: empty ? undefined : text.slice(at, end) })
      return end
    }
    found.push({ path: [...path], text: undefined })
    at = skipSpace(text, at + 1)
    if (text.charCodeAt(at) === 0x5d /* ] */) return at + 1
    for (let index = 0; ; index++) {
      path.push(index)
      const end = scan(text, at, path, found)
      path.pop()
      if (end < 0) return end
      at = skipSpace(text, end)
      if (text.charCodeAt(at) === 0x2c /* , */) at++
      else return at + 1 // ]
    }
  }
  if (c === 0x7b /* { */) {
    at = skipSpace(text, at + 1)
    if (text.charCodeAt(at) === 0x7d /* } */) return at + 1
    for (;;) {
      const keyEnd = stringEnd(text, at)
      const raw = text.slice(at, keyEnd)
      // A key with escapes is decoded as JSON.parse decoded it.
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1)
      at = skipSpace(text, keyEnd) + 1 // past the colon
      path.push(key)
      const end = scan(text, at, path, found)
      path.pop()
      if (end < 0) return end
      at = skipSpace(text, end)
      if (text.charCodeAt(at) === 0x2c /* , */) at = skipSpace(text, at + 1)
      else return at + 1 // }
    }
  }
  if (c === 0x22 /* " */) return stringEnd(text, at)
  // A number, true, false or null: up to the next delimiter.
  while (at < text.length && !isDelimiter(text.charCodeAt(at))) at++
  return at
}

function skipSpace(text: string, at: number): number {
  SPACE.lastIndex = at
  SPACE.test(text)
  return SPACE.lastIndex
}

/** The position after the string that opens at `start` (a quote). */
function stringEnd(text: string, start: number): number {
  let at = start + 1
  for (;;) {
    const quote = text.indexOf('"', at)
    // Escaped if an odd number of backslashes stand before it.
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return quote + 1
    at = quote + 1
  }
}

function isDelimiter(c: number): boolean {
  return (
    c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
  )
}
