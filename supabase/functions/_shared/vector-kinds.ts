/**
 * What pgvector can store, compare and index: its vector types, distance metrics and index
 * methods, with the operator and operator class each combination uses and the limits each
 * index has. One table, read by `collection:new` (to write migrations) and by the `vectors`
 * function (to query them), so that the two agree.
 *
 * Facts from pgvector 0.8: HNSW indexes vector and halfvec by l2/inner_product/cosine/l1,
 * bit by hamming/jaccard, sparsevec by l2/inner_product/cosine/l1; IVFFlat indexes vector
 * and halfvec by l2/inner_product/cosine and bit by hamming only.
 */

/** pgvector's storable types. */
export const VECTOR_TYPES = ['vector', 'halfvec', 'bit', 'sparsevec'] as const
export type VectorType = (typeof VECTOR_TYPES)[number]

/** Distance metrics, each one pgvector operator. */
export const METRICS = ['cosine', 'l2', 'inner_product', 'l1', 'hamming', 'jaccard'] as const
export type Metric = (typeof METRICS)[number]

/** Approximate index methods. */
export const INDEX_METHODS = ['hnsw', 'ivfflat'] as const
export type IndexMethod = (typeof INDEX_METHODS)[number]

/**
 * The distance operator of each metric. Smaller is nearer for all of them: `<#>` is the
 * negative inner product, so that ascending order puts the largest product first.
 */
export const METRIC_OPERATORS: Readonly<Record<Metric, string>> = {
  cosine: '<=>',
  l2: '<->',
  inner_product: '<#>',
  l1: '<+>',
  hamming: '<~>',
  jaccard: '<%>',
}

const OPCLASS_SUFFIX: Readonly<Record<Metric, string>> = {
  cosine: 'cosine_ops',
  l2: 'l2_ops',
  inner_product: 'ip_ops',
  l1: 'l1_ops',
  hamming: 'hamming_ops',
  jaccard: 'jaccard_ops',
}

/** Which metrics each index method supports for each type. */
export const SUPPORTED: Readonly<
  Record<IndexMethod, Readonly<Record<VectorType, readonly Metric[]>>>
> = {
  hnsw: {
    vector: ['cosine', 'l2', 'inner_product', 'l1'],
    halfvec: ['cosine', 'l2', 'inner_product', 'l1'],
    bit: ['hamming', 'jaccard'],
    sparsevec: ['cosine', 'l2', 'inner_product', 'l1'],
  },
  ivfflat: {
    vector: ['cosine', 'l2', 'inner_product'],
    halfvec: ['cosine', 'l2', 'inner_product'],
    bit: ['hamming'],
    sparsevec: [],
  },
}

/**
 * The most dimensions an index takes for each type (for sparsevec the limit is on non-zero
 * elements per vector, not on dimensions).
 */
export const INDEX_DIMENSION_LIMITS: Readonly<Record<VectorType, number>> = {
  vector: 2000,
  halfvec: 4000,
  bit: 64000,
  sparsevec: 1000,
}

/** The most dimensions a sparsevec may have at all (pgvector's own limit). */
export const SPARSEVEC_MAX_DIMENSIONS = 1_000_000_000

/** The most non-zero elements an indexed sparsevec may have. */
export const SPARSEVEC_MAX_NONZERO = 1000

/** pgvector's range for `hnsw.ef_search`. */
export const EF_SEARCH_RANGE = { min: 1, max: 1000 } as const

/** pgvector's range for `ivfflat.probes`. */
export const PROBES_RANGE = { min: 1, max: 32768 } as const

/** Largest halfvec element magnitude (float16). */
export const HALFVEC_MAX = 65504

/** The operator class an index of `type` by `metric` uses, e.g. `vector_cosine_ops`. */
export function operatorClass(type: VectorType, metric: Metric): string {
  // bit's classes are named after the metric alone: bit_hamming_ops.
  return `${type}_${OPCLASS_SUFFIX[metric]}`
}

/** The metric an operator class stands for, or undefined for a class that is not pgvector's. */
export function metricOfOperatorClass(opclass: string): Metric | undefined {
  return METRICS.find((metric) => opclass.endsWith(`_${OPCLASS_SUFFIX[metric]}`))
}

/** Why `type` cannot be indexed by `method` with `metric`, or undefined when it can. */
export function unsupportedReason(
  type: VectorType,
  metric: Metric,
  method: IndexMethod,
): string | undefined {
  const metrics = SUPPORTED[method][type]
  if (metrics.includes(metric)) return undefined
  if (metrics.length === 0) return `${method} cannot index ${type}: use hnsw`
  return `${method} cannot index ${type} by ${metric}: it supports ${metrics.join(', ')}`
}
