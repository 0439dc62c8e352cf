/**
 * Weighted reciprocal rank fusion, as pure functions: what a hybrid query (hybrid.ts) does with
 * its two ranked lists, testable without a database.
 */
import { MAX_TOP_K } from '../_shared/vectors-contract.ts'

/** How the two rankings are fused: `score = Σ weight / (k + rank)`, rank from 1. */
export interface Fusion {
  k: number
  textWeight: number
  vectorWeight: number
}

/** Supabase's `hybrid_search` defaults: rrf_k 50, both weights 1. */
export const DEFAULT_FUSION: Fusion = { k: 50, textWeight: 1, vectorWeight: 1 }

/**
 * Most nodes (words and operators) a query's tsquery may have: 8 words. `ts_rank_cd`'s cost
 * per row grows with them: at 100,000 rows (native PG 15) an `or` of the 2 commonest words
 * ranked in 0.7 s, of 8 in 2.5 s, of 16 in 6.4 s, of 63 in 34 s.
 */
export const MAX_QUERY_NODES = 15

/**
 * Rows each side ranks when the query names no `fusion.candidates`: `max(2 * topK, 40)`,
 * within `MAX_TOP_K`.
 *
 * @example
 * defaultCandidates(10) // 40
 * defaultCandidates(100) // 200
 */
export function defaultCandidates(topK: number): number {
  return Math.min(MAX_TOP_K, Math.max(2 * topK, 40))
}

/** A row as one side ranked it; `distance` on the vector side. */
export interface Ranked {
  id: string
  distance?: number
}

/** A fused row: its score, its rank on each side (null where that side did not find it). */
export interface Fused {
  id: string
  score: number
  ranks: { text: number | null; vector: number | null }
  /** The vector distance, when the vector side found the row. */
  distance?: number
}

/**
 * Weighted reciprocal rank fusion of two ranked lists (best first): each row scores
 * `textWeight / (k + textRank) + vectorWeight / (k + vectorRank)` over the sides that found
 * it, and the topK by score are answered, ties going to the nearer vector (rows the vector side
 * did not find last), then to the smaller id.
 *
 * @example
 * fuseRankings(['a', 'b'], [{ id: 'b', distance: 0.1 }], DEFAULT_FUSION, 2)
 * // [{ id: 'b', score: 1/52 + 1/51, ranks: { text: 2, vector: 1 }, distance: 0.1 }, { id: 'a', score: 1/51, … }]
 */
export function fuseRankings(
  text: readonly Ranked[] | readonly string[],
  vector: readonly Ranked[],
  fusion: Fusion,
  topK: number,
): Fused[] {
  const rows = new Map<string, Fused>()
  const row = (id: string) => {
    let found = rows.get(id)
    if (!found) {
      found = { id, score: 0, ranks: { text: null, vector: null } }
      rows.set(id, found)
    }
    return found
  }
  text.forEach((entry, index) => {
    const found = row(typeof entry === 'string' ? entry : entry.id)
    found.ranks.text = index + 1
    found.score += fusion.textWeight / (fusion.k + index + 1)
  })
  vector.forEach((entry, index) => {
    const found = row(entry.id)
    found.ranks.vector = index + 1
    found.score += fusion.vectorWeight / (fusion.k + index + 1)
    found.distance = entry.distance
  })
  return [...rows.values()]
    .sort(
      (a, b) =>
        b.score - a.score ||
        (a.distance ?? Infinity) - (b.distance ?? Infinity) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    .slice(0, topK)
}
