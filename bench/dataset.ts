/**
 * The benchmark's data: clustered Gaussian vectors from a fixed seed, so that every run, on
 * every machine, searches the same points with the same queries.
 *
 * Each vector is a cluster centre (standard normal per dimension) plus Gaussian noise of
 * standard deviation `spread`. Values are rounded to 4 decimals before they are stored, so
 * that the short text written to Postgres (`0.1234`) parses back to exactly the float4 the
 * ground truth was computed from.
 */
import type { Metric as PgvectorMetric } from '../supabase/functions/_shared/vector-kinds.ts'

/** The distance a search orders by, named as in pgvector's operator classes. */
export type Metric = 'cosine' | 'l2' | 'ip'

/**
 * Each metric's name in the project's table of pgvector's operators and operator classes
 * (supabase/functions/_shared/vector-kinds.ts), which `collection:new` and the functions read.
 */
export const PGVECTOR_METRIC: Readonly<Record<Metric, PgvectorMetric>> = {
  cosine: 'cosine',
  l2: 'l2',
  ip: 'inner_product',
}

/** Everything that decides a dataset; equal specs give equal data. */
export interface DatasetSpec {
  /** Real data (bench/fashion-mnist.ts) instead of the seeded mixture; its other fields are 0. */
  source?: 'fashion-mnist'
  count: number
  dimensions: number
  metric: Metric
  /** Number of Gaussian clusters the vectors are drawn around. */
  clusters: number
  /** Standard deviation of a vector around its cluster centre (centres have 1). */
  spread: number
  /** Number of query vectors, drawn from the same mixture but never stored. */
  queries: number
  seed: number
}

/** Vectors and queries, row-major: row `i` is `vectors.subarray(i * dimensions, …)`. */
export interface Dataset {
  spec: DatasetSpec
  vectors: Float32Array
  queries: Float32Array
}

/**
 * A seeded generator of uniform numbers in [0, 1): xoshiro128** seeded through splitmix32.
 *
 * @example
 * const next = seededRandom(42)
 * next() // 0.…, the same on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0
    const t = (b << 9) >>> 0
    c = (c ^ a) >>> 0
    d = (d ^ b) >>> 0
    b = (b ^ c) >>> 0
    a = (a ^ d) >>> 0
    c = (c ^ t) >>> 0
    d = rotl(d, 11)
    return result / 4294967296
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/**
 * A seeded standard normal generator (Box-Muller on `seededRandom`).
 *
 * @example
 * const normal = seededNormal(42)
 * normal() // a draw from N(0, 1), the same on every run
 */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed)
  let spare: number | undefined
  return () => {
    if (spare !== undefined) {
      const value = spare
      spare = undefined
      return value
    }
    let u = 0
    while (u === 0) u = uniform()
    const v = uniform()
    const radius = Math.sqrt(-2 * Math.log(u))
    spare = radius * Math.sin(2 * Math.PI * v)
    return radius * Math.cos(2 * Math.PI * v)
  }
}

/** Rounds to the 4 decimals the dataset stores (see the module comment). */
export function quantize(value: number): number {
  return Math.round(value * 1e4) / 1e4
}

/**
 * Generates the dataset of `spec`: deterministic, the same for the same spec.
 *
 * @example
 * const { vectors, queries } = generateDataset({ count: 2000, dimensions: 64, … })
 */
export function generateDataset(spec: DatasetSpec): Dataset {
  const { count, dimensions, clusters, spread, queries } = spec
  const centresNormal = seededNormal(spec.seed)
  const centres = new Float64Array(clusters * dimensions)
  for (let i = 0; i < centres.length; i++) centres[i] = centresNormal()
  return {
    spec,
    vectors: drawPoints(count, centres, dimensions, clusters, spread, spec.seed + 1),
    queries: drawPoints(queries, centres, dimensions, clusters, spread, spec.seed + 2),
  }
}

function drawPoints(
  count: number,
  centres: Float64Array,
  dimensions: number,
  clusters: number,
  spread: number,
  seed: number,
): Float32Array {
  const pick = seededRandom(seed)
  const noise = seededNormal(seed ^ 0x5bd1e995)
  const points = new Float32Array(count * dimensions)
  for (let i = 0; i < count; i++) {
    const centre = Math.floor(pick() * clusters) * dimensions
    const row = i * dimensions
    for (let d = 0; d < dimensions; d++) {
      points[row + d] = quantize(centres[centre + d]! + spread * noise())
    }
  }
  return points
}

/** Row `index` of a row-major matrix of `dimensions` columns. */
export function row(matrix: Float32Array, dimensions: number, index: number): Float32Array {
  return matrix.subarray(index * dimensions, (index + 1) * dimensions)
}

/**
 * pgvector's text form of a stored row, `[0.1234,-1.5,…]`: the quantized values are exact
 * with 4 decimals, so this is short and parses back to the same float4s.
 */
export function vectorText(values: Float32Array): string {
  return JSON.stringify(vectorArray(values))
}

/** A row as plain numbers (4 decimals), as a JSON body or the SDK takes it. */
export function vectorArray(values: Float32Array): number[] {
  return Array.from(values, quantize)
}
