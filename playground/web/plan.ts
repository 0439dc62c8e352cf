/**
 * Reading a query plan for the EXPLAIN panel. Shared by the playground server (which plans
 * `items` searches itself) and the page (which gets a collection's plan from the vectors
 * function's `explain`), so that both say "index used" by one rule.
 */

/**
 * Which index a plan scans, and whether that is the vector index.
 *
 * @example
 * indexUse(['Limit', '  ->  Index Scan using items_embedding_hnsw_idx on items'], 'items_embedding_hnsw_idx')
 * // { indexUsed: true, index: 'items_embedding_hnsw_idx' }
 */
export function indexUse(
  plan: readonly string[],
  vectorIndex: string | null,
): { indexUsed: boolean; index: string | null } {
  const scanned = plan.flatMap(
    (line) => /Index (?:Only )?Scan(?: Backward)? using (\S+)/.exec(line)?.[1] ?? [],
  )
  const indexUsed = vectorIndex !== null && scanned.includes(vectorIndex)
  return { indexUsed, index: indexUsed ? vectorIndex : (scanned[0] ?? null) }
}
