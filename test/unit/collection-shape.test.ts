import { describe, expect, it } from 'vitest'
import { metricOfOperatorClass } from '../../supabase/functions/_shared/vector-kinds.ts'
import { declaredMetric } from '../../supabase/functions/vectors/shape.ts'

describe('metricOfOperatorClass', () => {
  it('reads the metric from pgvector operator class names', () => {
    expect(metricOfOperatorClass('vector_cosine_ops')).toBe('cosine')
    expect(metricOfOperatorClass('halfvec_l2_ops')).toBe('l2')
    expect(metricOfOperatorClass('vector_ip_ops')).toBe('inner_product')
    expect(metricOfOperatorClass('bit_hamming_ops')).toBe('hamming')
    expect(metricOfOperatorClass('int4_ops')).toBeUndefined()
  })
})

describe('declaredMetric', () => {
  it('reads the metric from a collection marker, and nothing from other comments', () => {
    expect(declaredMetric('matchbox collection {"metric":"l2"}')).toBe('l2')
    expect(declaredMetric('matchbox collection {"metric":"nope"}')).toBeNull()
    expect(declaredMetric('matchbox collection')).toBeNull()
    expect(declaredMetric('Embeddings searched by cosine distance')).toBeNull()
    expect(declaredMetric(null)).toBeNull()
  })
})
