/**
 * Exact nearest neighbours by brute force, the yardstick recall is measured against, and the
 * recall computation itself. The exact answer of a large dataset takes a while, so it is
 * computed once and cached in bench/.cache/ under a name made of the dataset's spec.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Dataset, DatasetSpec, Metric } from './dataset.ts'

/** The exact top `k` of every query: `ids[q * k + j]` is the j-th nearest id of query `q`. */
export interface GroundTruth {
  k: number
  /** Ids as stored: row `i` of the dataset has id `i + 1`. */
  ids: Int32Array
}

/**
 * The exact `k` nearest ids of each query by `metric`, nearest first, in float64 over the
 * stored float4 values.
 *
 * @example
 * const truth = exactNeighbours(dataset, 10)
 * truth.ids.subarray(0, 10) // the 10 ids nearest to query 0
 */
export function exactNeighbours(dataset: Dataset, k: number): GroundTruth {
  const { count, dimensions, metric, queries } = dataset.spec
  const vectors = dataset.vectors
  const norms = metric === 'cosine' ? rowNorms(vectors, count, dimensions) : undefined
  const squared = metric === 'l2' ? rowSquares(vectors, count, dimensions) : undefined
  const ids = new Int32Array(queries * k)
  const bestIds = new Int32Array(k)
  const bestDistances = new Float64Array(k)
  for (let q = 0; q < queries; q++) {
    const query = dataset.queries.subarray(q * dimensions, (q + 1) * dimensions)
    let queryNorm = 0
    for (let d = 0; d < dimensions; d++) queryNorm += query[d]! * query[d]!
    const querySquare = queryNorm
    queryNorm = Math.sqrt(queryNorm)
    let filled = 0
    bestDistances.fill(Infinity)
    for (let i = 0; i < count; i++) {
      let dot = 0
      const offset = i * dimensions
      for (let d = 0; d < dimensions; d++) dot += query[d]! * vectors[offset + d]!
      const distance = distanceFrom(metric, dot, queryNorm, querySquare, norms, squared, i)
      if (filled === k && distance >= bestDistances[k - 1]!) continue
      // Insertion into the sorted top k; ties keep the lower id first, as a stable sort would.
      let j = filled < k ? filled++ : k - 1
      while (j > 0 && bestDistances[j - 1]! > distance) {
        bestDistances[j] = bestDistances[j - 1]!
        bestIds[j] = bestIds[j - 1]!
        j--
      }
      bestDistances[j] = distance
      bestIds[j] = i + 1
    }
    ids.set(bestIds, q * k)
  }
  return { k, ids }
}

function distanceFrom(
  metric: Metric,
  dot: number,
  queryNorm: number,
  querySquare: number,
  norms: Float64Array | undefined,
  squared: Float64Array | undefined,
  i: number,
): number {
  if (metric === 'cosine') return 1 - dot / (queryNorm * norms![i]!)
  if (metric === 'ip') return -dot
  return querySquare + squared![i]! - 2 * dot
}

function rowSquares(vectors: Float32Array, count: number, dimensions: number): Float64Array {
  const squares = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    let sum = 0
    for (let d = 0; d < dimensions; d++) sum += vectors[i * dimensions + d]! ** 2
    squares[i] = sum
  }
  return squares
}

function rowNorms(vectors: Float32Array, count: number, dimensions: number): Float64Array {
  const norms = rowSquares(vectors, count, dimensions)
  for (let i = 0; i < count; i++) norms[i] = Math.sqrt(norms[i]!)
  return norms
}

/**
 * recall@k of one answer: the share of the exact top `k` that the answer's first `k` ids hold.
 *
 * @example
 * recallAt([1, 2, 9], Int32Array.of(1, 2, 3), 3) // 2 / 3
 */
export function recallAt(returned: readonly number[], exact: ArrayLike<number>, k: number): number {
  const wanted = new Set<number>()
  for (let j = 0; j < k && j < exact.length; j++) wanted.add(exact[j]!)
  let found = 0
  for (let j = 0; j < k && j < returned.length; j++) if (wanted.delete(returned[j]!)) found++
  return found / k
}

/** The cache file's name for a spec: readable parameters plus a hash of all of them. */
export function cacheKey(spec: DatasetSpec, k: number): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...spec, k, version: 1 }))
    .digest('hex')
    .slice(0, 12)
  const source = spec.source ? `${spec.source}-` : ''
  return `truth-${source}${spec.count}x${spec.dimensions}-${spec.metric}-q${spec.queries}-k${k}-${hash}.bin`
}

/**
 * The ground truth of `dataset`, from `cacheDir` when it was computed before, otherwise
 * computed now (reported through `log`) and written there.
 */
export function cachedGroundTruth(
  dataset: Dataset,
  k: number,
  cacheDir: string,
  log: (line: string) => void = () => {},
): GroundTruth & { cached: boolean; ms: number } {
  const file = path.join(cacheDir, cacheKey(dataset.spec, k))
  const expected = dataset.spec.queries * k
  try {
    const bytes = readFileSync(file)
    if (bytes.byteLength === expected * 4) {
      const ids = new Int32Array(expected)
      new Uint8Array(ids.buffer).set(bytes)
      return { k, ids, cached: true, ms: 0 }
    }
  } catch {
    // Not cached yet.
  }
  log(`computing exact top-${k} for ${dataset.spec.queries} queries (cached afterwards)…`)
  const started = performance.now()
  const truth = exactNeighbours(dataset, k)
  const ms = performance.now() - started
  mkdirSync(cacheDir, { recursive: true })
  // Written aside and renamed, so that an interrupted run leaves no half file behind.
  writeFileSync(`${file}.tmp`, new Uint8Array(truth.ids.buffer))
  renameSync(`${file}.tmp`, file)
  return { ...truth, cached: false, ms }
}
