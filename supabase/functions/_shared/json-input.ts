/**
 * Parsing a request body as JSON within bounds that make the most expensive admissible body
 * cheap: a nesting depth checked on the text before anything is built, then one pass over the
 * parsed value that refuses what JSON allows but no later step can hold (numbers that overflow
 * to Infinity, lone UTF-16 surrogates, a `__proto__` key that plain objects would drop).
 * Every refusal is a 400 that names the bound or the path at fault. The text of each array
 * of numbers is kept for the vectors in it (number-text.ts).
 */
import { HttpError } from './errors.ts'
import { recordNumberArrays } from './number-text.ts'

/** Deepest nesting of arrays and objects a body may have. */
export const MAX_JSON_DEPTH = 32

/**
 * Parses `text` as JSON, refusing bodies nested deeper than `MAX_JSON_DEPTH`, non-finite
 * numbers, invalid Unicode and `__proto__` keys.
 *
 * @throws HttpError 400 `invalid_json` naming the bound or the path at fault.
 * @example
 * parseJsonInput('{"year":{"$gt":1e400}}')
 * // throws: year.$gt: 1e400 is not a finite number (it overflows a double)
 */
export function parseJsonInput(text: string): unknown {
  checkDepth(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    throw invalidJson(`request body is not valid JSON: ${detail}`)
  }
  checkValue(value, [])
  recordNumberArrays(text, value)
  return value
}

/**
 * Refuses text nested deeper than the bound, in one pass over its characters: a deep body
 * would otherwise be built whole and then overflow the stack of whatever walks it.
 */
function checkDepth(text: string): void {
  // Text with no more openers than the bound cannot nest deeper: counted with indexOf, which
  // is many times faster than the walk below (a search body has two or three).
  if (openers(text, MAX_JSON_DEPTH + 1) <= MAX_JSON_DEPTH) return
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH)
        throw invalidJson(`request body nests deeper than ${MAX_JSON_DEPTH} levels`)
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
}

/** How many `[` and `{` the text has, strings included, counting up to `stop`. */
function openers(text: string, stop: number): number {
  let count = 0
  for (const opener of ['[', '{']) {
    for (let i = text.indexOf(opener); i !== -1 && count < stop; i = text.indexOf(opener, i + 1))
      count++
  }
  return count
}

/**
 * Walks a parsed value (at most `MAX_JSON_DEPTH` deep) for what no later step can hold. The
 * walk keeps no path: only when it finds a fault is the value walked again for the path that
 * the message names.
 */
function checkValue(value: unknown, path: (string | number)[]): void {
  if (isSound(value)) return
  findFault(value, path)
}

/** Whether nothing in `value` is a fault (the quick walk). */
function isSound(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value === 'string') return !LONE_SURROGATE_PATTERN.test(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      // Numbers, the bulk of a body (a vector's elements), are checked in line.
      if (typeof item === 'number' ? !Number.isFinite(item) : !isSound(item)) return false
    }
    return true
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (key === '__proto__' || LONE_SURROGATE_PATTERN.test(key)) return false
      if (!isSound((value as Record<string, unknown>)[key])) return false
    }
  }
  return true
}

/** Throws for the first fault in `value`, naming its path. */
function findFault(value: unknown, path: (string | number)[]): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw invalidJson(`${where(path)}: not a finite number (it overflows a double)`)
  } else if (typeof value === 'string') {
    if (LONE_SURROGATE_PATTERN.test(value)) throw invalidJson(`${where(path)}: ${LONE_SURROGATE}`)
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i)
      findFault(value[i], path)
      path.pop()
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      path.push(key)
      if (LONE_SURROGATE_PATTERN.test(key))
        throw invalidJson(`${where(path)}: the key has ${LONE_SURROGATE}`)
      if (key === '__proto__')
        throw invalidJson(`${where(path)}: "__proto__" is not allowed as a key`)
      findFault((value as Record<string, unknown>)[key], path)
      path.pop()
    }
  }
}

/** In a `u` pattern a well-formed pair is one code point: only a lone half matches. */
const LONE_SURROGATE_PATTERN = /\p{Surrogate}/u
const LONE_SURROGATE = 'a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid Unicode'

/** A path for messages, shortened: a hostile key may be megabytes long. */
function where(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'body'
  const text = path.map((part) => String(part).slice(0, 64)).join('.')
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function invalidJson(message: string): HttpError {
  return new HttpError(400, 'invalid_json', message)
}
