/**
 * A real text corpus for text and hybrid search tests: the descriptions of the Debian packages
 * installed on this machine (`dpkg-query`), with vectors made from each text's word counts by a
 * fixed pseudo-random projection. No embedding model is available here, so the vectors only
 * say which texts share words: they exercise fusion, not semantic quality.
 */
import { execFileSync } from 'node:child_process'
import { seededRandom } from '../../bench/dataset.ts'

/** One package: its name as id, its Debian section, and its description. */
export interface CorpusDocument {
  id: string
  section: string
  text: string
}

const END = '\n@@end-of-package@@\n'

/**
 * The installed packages' descriptions, one document per package name, sorted by name.
 * The synopsis and the long description are joined into one text, blank lines (` .`) left out.
 */
export function debianDescriptions(): CorpusDocument[] {
  const output = execFileSync(
    'dpkg-query',
    ['-W', `-f=\${Package}\\t\${Section}\\t\${Description}${END.replaceAll('\n', '\\n')}`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  const documents = new Map<string, CorpusDocument>()
  for (const entry of output.split(END)) {
    const [id, section, ...description] = entry.split('\t')
    if (!id || documents.has(id)) continue
    const text = description
      .join('\t')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && line !== '.')
      .join(' ')
    if (text !== '') documents.set(id, { id, section: section || 'unknown', text })
  }
  return [...documents.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
}

/** Lowercase words of letters and digits, as the projection counts them. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? []
}

/**
 * A text's vector: the sum over its words of count x a fixed pseudo-random direction per word
 * (seeded by the word), rounded to float32 so that the database stores exactly these values.
 * Texts that share words point alike; it is never all zero for a text with a word.
 */
export function projectWords(text: string, dimensions: number): number[] {
  const vector: number[] = new Array<number>(dimensions).fill(0)
  for (const word of words(text)) {
    const direction = wordDirection(word, dimensions)
    for (let i = 0; i < dimensions; i++) vector[i]! += direction[i]!
  }
  if (!vector.some((value) => value !== 0)) vector[0] = 1
  return vector.map((value) => Math.fround(value))
}

const directions = new Map<string, number[]>()

function wordDirection(word: string, dimensions: number): number[] {
  const key = `${dimensions}:${word}`
  let direction = directions.get(key)
  if (!direction) {
    const random = seededRandom(fnv1a(word))
    direction = Array.from({ length: dimensions }, () => random() * 2 - 1)
    directions.set(key, direction)
  }
  return direction
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** Cosine distance in double precision, as a brute-force ranking computes it. */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return 1 - dot / Math.sqrt(na * nb)
}
