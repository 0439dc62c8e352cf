/** The playground's PCA: eigenvectors of the sample covariance, checked against their definition. */
import { describe, expect, it } from 'vitest'
import { fitPca, projectPca, projectTo3d, SCATTER_PCA } from '../../playground/web/pca.ts'

/** Repeatable pseudo-random numbers in [-1, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 0x8000_0000 - 1
  }
}

/** n points of dimension d with standard deviations `scales` along a rotated set of axes. */
function anisotropic(
  n: number,
  scales: number[],
  seed = 7,
): { data: number[][]; axes: number[][] } {
  const d = scales.length
  const next = random(seed)
  // A Householder reflection H = I - 2uuᵀ/|u|² is orthogonal: its rows are the axes.
  const u = Array.from({ length: d }, () => next())
  const uu = u.reduce((sum, value) => sum + value * value, 0)
  const axes = u.map((ui, i) => u.map((uj, j) => +(i === j) - (2 * ui * uj) / uu))
  const data = Array.from({ length: n }, () => {
    const point = new Array<number>(d).fill(5)
    scales.forEach((scale, a) => {
      // A sum of uniforms: roughly normal, which is all this needs.
      const t = scale * (next() + next() + next())
      for (let j = 0; j < d; j++) point[j]! += t * axes[a]![j]!
    })
    return point
  })
  return { data, axes }
}

const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, value, j) => sum + value * b[j]!, 0)

/** Sample covariance times v, computed the plain way. */
function covarianceTimes(data: number[][], v: number[]): number[] {
  const d = v.length
  const mean = Array.from(
    { length: d },
    (_, j) => data.reduce((s, r) => s + r[j]!, 0) / data.length,
  )
  const out = new Array<number>(d).fill(0)
  for (const row of data) {
    const centred = row.map((value, j) => value - mean[j]!)
    const c = dot(centred, v)
    centred.forEach((value, j) => (out[j]! += (c * value) / (data.length - 1)))
  }
  return out
}

describe('fitPca', () => {
  const { data, axes } = anisotropic(400, [6, 3, 1.5, 0.4, 0.2, 0.1])
  const pca = fitPca(data, 3)

  it('finds unit, orthogonal components that are eigenvectors of the covariance', () => {
    pca.components.forEach((component, i) => {
      expect(dot(component, component)).toBeCloseTo(1, 12)
      pca.components
        .slice(i + 1)
        .forEach((other) => expect(dot(component, other)).toBeCloseTo(0, 12))
      const image = covarianceTimes(data, component)
      image.forEach((value, j) => expect(value).toBeCloseTo(pca.variances[i]! * component[j]!, 8))
    })
  })

  it('orders them by variance and recovers the axes the data was made along', () => {
    expect(pca.variances[0]).toBeGreaterThan(pca.variances[1]!)
    expect(pca.variances[1]).toBeGreaterThan(pca.variances[2]!)
    pca.components.forEach((component, i) =>
      expect(Math.abs(dot(component, axes[i]!))).toBeGreaterThan(0.99),
    )
    expect(pca.variances.reduce((a, b) => a + b)).toBeLessThan(pca.totalVariance)
    expect(pca.variances.reduce((a, b) => a + b) / pca.totalVariance).toBeGreaterThan(0.9)
  })

  it('projects the mean to the origin and the data with the components’ variances', () => {
    expect(projectPca(pca, pca.mean).map((x) => Math.abs(x))).toEqual([0, 0, 0])
    const projected = data.map((row) => projectPca(pca, row))
    for (let i = 0; i < 3; i++) {
      const variance = projected.reduce((s, p) => s + p[i]! ** 2, 0) / (data.length - 1)
      expect(variance).toBeCloseTo(pca.variances[i]!, 8)
      // Uncorrelated coordinates: the components are the covariance's own axes.
      for (let j = i + 1; j < 3; j++) {
        expect(projected.reduce((s, p) => s + p[i]! * p[j]!, 0)).toBeCloseTo(0, 6)
      }
    }
  })

  it('is repeatable, signs included: the largest entry of each component is positive', () => {
    expect(fitPca(data, 3)).toEqual(pca)
    for (const component of pca.components) {
      const lead = component.reduce((best, value) =>
        Math.abs(value) > Math.abs(best) ? value : best,
      )
      expect(lead).toBeGreaterThan(0)
    }
  })

  it('finds one axis, and zero axes after it, for points on a line', () => {
    const direction = [1, 2, 2, 4]
    const line = [-2, -1, 0, 0.5, 3].map((t) => direction.map((v) => 1 + t * v))
    const fitted = fitPca(line, 3)
    const unit = direction.map((v) => v / 5)
    fitted.components[0]!.forEach((value, j) => expect(value).toBeCloseTo(unit[j]!, 12))
    expect(fitted.variances[0]).toBeCloseTo(fitted.totalVariance, 10)
    expect(fitted.components.slice(1)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ])
    expect(fitted.variances.slice(1)).toEqual([0, 0])
  })

  it('gives zero axes for one point or equal points, and asks for consistent dimensions', () => {
    expect(fitPca([[1, 2, 3, 4]]).variances).toEqual([0, 0, 0])
    expect(
      fitPca([
        [1, 1, 1, 1],
        [1, 1, 1, 1],
      ]).components,
    ).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ])
    expect(() => fitPca([])).toThrow('expected at least 1 vector')
    expect(() =>
      fitPca([
        [1, 2, 3, 4],
        [1, 2, 3],
      ]),
    ).toThrow('expected every vector to have 4 dimensions: vector 1 has 3')
    expect(() => projectPca(pca, [1, 2])).toThrow('expected 6 dimensions, not 2')
  })

  it('handles a high dimension with few points (more dimensions than rows)', () => {
    const next = random(3)
    const wide = Array.from({ length: 12 }, () => Array.from({ length: 768 }, () => next()))
    const fitted = fitPca(wide, 3)
    fitted.components.forEach((component, i) => {
      const image = covarianceTimes(wide, component)
      image.forEach((value, j) =>
        expect(value).toBeCloseTo(fitted.variances[i]! * component[j]!, 8),
      )
    })
  })
})

describe('projectTo3d', () => {
  it('keeps vectors of 3 dimensions or fewer as they are', () => {
    expect(projectTo3d([[1, 2, 3]], [[3, 1, 2]])).toEqual({
      mode: 'raw',
      dimensions: 3,
      points: [[1, 2, 3]],
      extras: [[3, 1, 2]],
      explained: [],
    })
    expect(projectTo3d([[1, 2]]).points).toEqual([[1, 2, 0]])
  })

  it('projects higher dimensions on the top 3 components, extras included', () => {
    const { data } = anisotropic(50, [4, 2, 1, 0.5, 0.1])
    const query = [5, 6, 7, 8, 9]
    const projection = projectTo3d(data, [query])
    const pca = fitPca(data, 3, SCATTER_PCA)
    expect(projection.mode).toBe('pca')
    expect(projection.dimensions).toBe(5)
    expect(projection.points[0]).toEqual(projectPca(pca, data[0]!))
    expect(projection.extras[0]).toEqual(projectPca(pca, query))
    expect(projection.explained).toEqual(pca.variances.map((v) => v / pca.totalVariance))
    // Looser than fitPca's default, and still the same axes to well within a pixel.
    fitPca(data, 3).components.forEach((component, i) =>
      expect(Math.abs(dot(component, pca.components[i]!))).toBeCloseTo(1, 8),
    )
  })

  it('fits a sample of many rows and still places every row', () => {
    const { data } = anisotropic(1200, [4, 2, 1, 0.5, 0.1], 11)
    const projection = projectTo3d(data)
    expect(projection.points).toHaveLength(1200)
    const sampled = fitPca(
      data.filter((_, index) => index % 3 === 0),
      3,
      SCATTER_PCA,
    )
    expect(projection.points[1]).toEqual(projectPca(sampled, data[1]!))
  })
})
