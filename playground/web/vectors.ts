/**
 * The vectors typed into the `items` forms: only the shape is checked here, so that the
 * SDK's and the function's refusals (`expected 3 dimensions, not 4`) are what the page shows.
 */

/**
 * One vector (`[1,2,3]`) or several (`[[1,2,3],[1,1,1]]`), as a list of vectors.
 *
 * @example
 * parseVectors('[1, 2, 3]') // [[1, 2, 3]]
 * parseVectors('[[1, 2, 3], [1, 1, 1]]') // [[1, 2, 3], [1, 1, 1]]
 */
export function parseVectors(text: string): number[][] {
  const value = parseJson(text)
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error(
      'expected a vector such as [1,2,3], or a list of them such as [[1,2,3],[1,1,1]]',
    )
  }
  return value.every(Array.isArray) ? (value as number[][]) : [value as number[]]
}

/**
 * Exactly one vector, for a search.
 *
 * @example
 * parseVector('[3, 1, 2]') // [3, 1, 2]
 */
export function parseVector(text: string): number[] {
  const value = parseJson(text)
  if (!Array.isArray(value) || value.length === 0 || value.some(Array.isArray)) {
    throw new Error('expected one vector such as [3,1,2]')
  }
  return value as number[]
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new Error('enter a vector as JSON, e.g. [1,2,3]')
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`not JSON: enter a vector such as [1,2,3]`)
  }
}

/** A vector as the tables show it: JSON, with numbers in their shortest exact form. */
export function formatVector(vector: readonly number[]): string {
  return `[${vector.join(',')}]`
}
