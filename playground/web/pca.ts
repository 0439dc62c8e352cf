/**
 * Principal component analysis for the 3-D scatter: only the top few components, by subspace
 * iteration on a covariance that is never formed, then Rayleigh–Ritz. Deterministic.
 */

/** A fitted projection: centre on `mean`, then take the dot product with each component. */
export interface Pca {
  /** The data's mean, subtracted before projecting. */
  mean: number[]
  /**
   * Unit principal axes, largest variance first; a zero vector where the data has no
   * variance left (fewer distinct directions than components asked for).
   */
  components: number[][]
  /** The sample variance along each component (its covariance eigenvalue). */
  variances: number[]
  /** The data's total sample variance, the sum over all dimensions. */
  totalVariance: number
}

/** When to stop iterating. */
export interface PcaOptions {
  /** Stop once every wanted eigenpair's residual is below this, relative to the largest. */
  tolerance?: number
  /** Stop after this many steps even if not converged (the axes are then approximate). */
  maxIterations?: number
}

/** Three coordinates, as the scatter draws them. */
export type Point3 = [number, number, number]

/**
 * Fits `k` principal components to `data` (rows are vectors of one dimension).
 *
 * @example
 * const pca = fitPca([[1, 2, 3, 4], [2, 4, 6, 8], [0, 1, 0, 1]], 3)
 * projectPca(pca, [1, 2, 3, 4]) // [x, y, z]
 */
export function fitPca(data: readonly (readonly number[])[], k = 3, options: PcaOptions = {}): Pca {
  const tolerance = options.tolerance ?? 1e-10
  const maxIterations = options.maxIterations ?? 300
  if (!Number.isInteger(k) || k < 1) throw new Error(`expected a positive number of components`)
  const n = data.length
  if (n === 0) throw new Error('expected at least 1 vector')
  const d = data[0]!.length
  if (d === 0) throw new Error('expected at least 1 dimension')
  data.forEach((row, index) => {
    if (row.length !== d) {
      throw new Error(
        `expected every vector to have ${d} dimensions: vector ${index} has ${row.length}`,
      )
    }
  })

  const mean = new Array<number>(d).fill(0)
  for (const row of data) for (let j = 0; j < d; j++) mean[j]! += row[j]!
  for (let j = 0; j < d; j++) mean[j]! /= n
  // Centred rows in one flat array: the covariance products below walk it row by row.
  const x = new Float64Array(n * d)
  let sumOfSquares = 0
  data.forEach((row, i) => {
    for (let j = 0; j < d; j++) {
      const value = row[j]! - mean[j]!
      x[i * d + j] = value
      sumOfSquares += value * value
    }
  })
  const denominator = Math.max(n - 1, 1)
  const totalVariance = sumOfSquares / denominator
  const pca: Pca = {
    mean,
    components: Array.from({ length: k }, () => new Array<number>(d).fill(0)),
    variances: new Array<number>(k).fill(0),
    totalVariance,
  }
  if (totalVariance === 0) return pca

  /** C·v for each v, with the sample covariance C = XᵀX / (n − 1) never formed. */
  const covarianceTimes = (vectors: readonly Float64Array[]): Float64Array[] => {
    const out = vectors.map(() => new Float64Array(d))
    const dots = new Float64Array(vectors.length)
    // One pass over the data for all the vectors: each row is read once while it is cached.
    for (let i = 0; i < n; i++) {
      const offset = i * d
      for (let b = 0; b < vectors.length; b++) {
        const v = vectors[b]!
        let sum = 0
        for (let j = 0; j < d; j++) sum += x[offset + j]! * v[j]!
        dots[b] = sum / denominator
      }
      for (let b = 0; b < vectors.length; b++) {
        const o = out[b]!
        const c = dots[b]!
        for (let j = 0; j < d; j++) o[j]! += c * x[offset + j]!
      }
    }
    return out
  }

  // Two more vectors than wanted: the k-th then converges at the rate of λ(k+3)/λ(k), not
  // λ(k+1)/λ(k), which matters when the k-th and next eigenvalues are close.
  const size = Math.min(k + 2, d)
  const wanted = Math.min(k, size)
  let basis = orthonormalize(seedVectors(size, d))
  for (let iteration = 1; ; iteration++) {
    const images = covarianceTimes(basis)
    const projected = basis.map((qi) => images.map((zj) => dot(qi, zj)))
    const { values, vectors } = symmetricEigen(projected)
    const ritz = combine(basis, vectors)
    const ritzImages = combine(images, vectors)
    let residual = 0
    for (let i = 0; i < wanted; i++) {
      const r = ritzImages[i]!.map((value, j) => value - values[i]! * ritz[i]![j]!)
      residual = Math.max(residual, Math.sqrt(dot(r, r)))
    }
    if (residual <= tolerance * values[0]! || iteration >= maxIterations) {
      // Variance below rounding noise is no direction of the data: leave a zero axis.
      const floor = totalVariance * 1e-12
      for (let i = 0; i < wanted; i++) {
        if (values[i]! <= floor) continue
        pca.components[i] = withPositiveLead(Array.from(ritz[i]!))
        pca.variances[i] = values[i]!
      }
      return pca
    }
    basis = orthonormalize(ritzImages)
  }
}

/**
 * The coordinates of `vector` on the fitted components.
 *
 * @example
 * projectPca(pca, pca.mean) // [0, 0, 0]
 */
export function projectPca(pca: Pca, vector: readonly number[]): number[] {
  if (vector.length !== pca.mean.length) {
    throw new Error(`expected ${pca.mean.length} dimensions, not ${vector.length}`)
  }
  return pca.components.map((component) => {
    let sum = 0
    for (let j = 0; j < component.length; j++) sum += component[j]! * (vector[j]! - pca.mean[j]!)
    return sum
  })
}

/**
 * How the scatter fits its PCA: 1e-6 is plenty for a picture, and 25 steps on 500 rows keep
 * 1536 dimensions under a second (the other rows are projected, not fitted).
 */
export const SCATTER_PCA = { tolerance: 1e-6, maxIterations: 25, maxRows: 500 } as const

/** Where the scatter draws a set of vectors, and how it got there. */
export interface Projection {
  /** `raw`: the vectors' own coordinates (3 or fewer dimensions); `pca`: their top 3 components. */
  mode: 'raw' | 'pca'
  dimensions: number
  points: Point3[]
  /** The extra vectors (a query), placed in the same space but not fitted. */
  extras: Point3[]
  /** For `pca`: the share of the total variance each axis shows. */
  explained: number[]
}

/**
 * Places `vectors` in 3-D: as they are when they have 3 dimensions or fewer (padded with
 * zeros), otherwise by PCA fitted to `vectors` (a sample of them, past 500), with `extras`
 * projected the same way.
 *
 * @example
 * projectTo3d([[1, 2, 3]], [[3, 1, 2]]) // { mode: 'raw', points: [[1, 2, 3]], extras: [[3, 1, 2]], … }
 */
export function projectTo3d(
  vectors: readonly (readonly number[])[],
  extras: readonly (readonly number[])[] = [],
): Projection {
  const dimensions = vectors[0]?.length ?? extras[0]?.length ?? 0
  if (dimensions <= 3) {
    const pad = (v: readonly number[]): Point3 => [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0]
    return {
      mode: 'raw',
      dimensions,
      points: vectors.map(pad),
      extras: extras.map(pad),
      explained: [],
    }
  }
  const stride = Math.ceil(vectors.length / SCATTER_PCA.maxRows)
  const sample = stride > 1 ? vectors.filter((_, index) => index % stride === 0) : vectors
  const pca = fitPca(sample, 3, SCATTER_PCA)
  const place = (v: readonly number[]) => projectPca(pca, v) as Point3
  return {
    mode: 'pca',
    dimensions,
    points: vectors.map(place),
    extras: extras.map(place),
    explained: pca.variances.map((variance) =>
      pca.totalVariance > 0 ? variance / pca.totalVariance : 0,
    ),
  }
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!
  return sum
}

/** `vectors[j]` weighted by column `i` of `weights`, for each column `i`. */
function combine(vectors: readonly Float64Array[], weights: number[][]): Float64Array[] {
  const d = vectors[0]!.length
  return weights[0]!.map((_, i) => {
    const out = new Float64Array(d)
    vectors.forEach((vector, j) => {
      const w = weights[j]![i]!
      for (let m = 0; m < d; m++) out[m]! += w * vector[m]!
    })
    return out
  })
}

/**
 * Gram–Schmidt, twice over for accuracy; a vector that has nothing left once the others are
 * taken out (rank-deficient data) is replaced by the first unit axis that does.
 */
function orthonormalize(vectors: readonly Float64Array[]): Float64Array[] {
  const d = vectors[0]!.length
  const basis: Float64Array[] = []
  for (const vector of vectors) {
    const scale = Math.sqrt(dot(vector, vector))
    for (let axis = -1; axis < d; axis++) {
      // axis -1 is the vector itself; the unit axes are made only when it is used up.
      const v = axis < 0 ? Float64Array.from(vector) : unitAxis(d, axis)
      for (let pass = 0; pass < 2; pass++) {
        for (const q of basis) {
          const c = dot(q, v)
          for (let j = 0; j < d; j++) v[j]! -= c * q[j]!
        }
      }
      const norm = Math.sqrt(dot(v, v))
      if (norm > 0 && norm > 1e-10 * (axis < 0 ? scale : 1)) {
        for (let j = 0; j < d; j++) v[j]! /= norm
        basis.push(v)
        break
      }
    }
  }
  return basis
}

function unitAxis(d: number, axis: number): Float64Array {
  const v = new Float64Array(d)
  v[axis] = 1
  return v
}

/** Fixed pseudo-random start vectors, so that a fit is repeatable. */
function seedVectors(count: number, d: number): Float64Array[] {
  let state = 0x2545f491
  const next = () => {
    // xorshift32: enough to avoid a start orthogonal to the answer.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000 - 0.5
  }
  return Array.from({ length: count }, () => Float64Array.from({ length: d }, next))
}

/** A component points either way; pick the one whose largest entry is positive. */
function withPositiveLead(vector: number[]): number[] {
  let lead = 0
  for (let j = 1; j < vector.length; j++) {
    if (Math.abs(vector[j]!) > Math.abs(vector[lead]!) + 1e-12) lead = j
  }
  return vector[lead]! < 0 ? vector.map((value) => -value) : vector
}

/**
 * Eigenvalues (largest first) and eigenvectors (as columns) of a small symmetric matrix, by
 * cyclic Jacobi rotations.
 */
function symmetricEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const size = matrix.length
  const a = matrix.map((row, i) => row.map((_, j) => (matrix[i]![j]! + matrix[j]![i]!) / 2))
  const v = a.map((row, i) => row.map((_, j) => +(i === j)))
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) off += a[i]![j]! ** 2
    if (off < 1e-300) break
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p]![q]!
        if (apq === 0) continue
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let m = 0; m < size; m++) {
          const amp = a[m]![p]!
          const amq = a[m]![q]!
          a[m]![p] = c * amp - s * amq
          a[m]![q] = s * amp + c * amq
        }
        for (let m = 0; m < size; m++) {
          const apm = a[p]![m]!
          const aqm = a[q]![m]!
          a[p]![m] = c * apm - s * aqm
          a[q]![m] = s * apm + c * aqm
        }
        for (let m = 0; m < size; m++) {
          const vmp = v[m]![p]!
          const vmq = v[m]![q]!
          v[m]![p] = c * vmp - s * vmq
          v[m]![q] = s * vmp + c * vmq
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[j]![j]! - a[i]![i]!)
  return {
    values: order.map((i) => a[i]![i]!),
    vectors: v.map((row) => order.map((i) => row[i]!)),
  }
}
