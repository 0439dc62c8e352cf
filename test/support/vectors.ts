/** Helpers for collection tests: making collections, seeded data, brute-force distances. */
import type postgres from 'postgres'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import {
  type CollectionInput,
  type CollectionSpec,
  parseCollectionSpec,
} from '../../cli/collections/spec.ts'
import type { Metric } from '../../supabase/functions/_shared/vector-kinds.ts'

/** Creates a collection in the test database from the same SQL `collection:new` writes. */
export async function createCollection(
  sql: postgres.Sql,
  input: CollectionInput & { name: string; dimensions: number },
): Promise<CollectionSpec> {
  const spec = parseCollectionSpec(input)
  await dropCollection(sql, spec.name)
  await sql.unsafe(collectionMigrationSql(spec))
  return spec
}

/** Drops a collection: its table and its `match_<name>` function, which the table's drop leaves. */
export async function dropCollection(sql: postgres.Sql, name: string): Promise<void> {
  await sql.unsafe(
    `drop table if exists public.${name} cascade; drop function if exists public.match_${name}`,
  )
}

/** A seeded pseudo-random generator: the same data on every run. */
export { seededRandom as seeded } from '../../bench/dataset.ts'

/**
 * A dense vector of multiples of 1/8 in [-2, 2], never all zero: exact in float16 and
 * float32, so pgvector's arithmetic and the test's agree to the last bit.
 */
export function denseVector(random: () => number, dimensions: number): number[] {
  // `+ 0` turns -0 into 0: JSON keeps no sign on zero once it is a literal.
  const values: number[] = Array.from(
    { length: dimensions },
    () => Math.round((random() * 4 - 2) * 8) / 8 + 0,
  )
  if (!values.some((v) => v !== 0)) values[0] = 1
  return values
}

/** A bit string with at least one 1. */
export function bitString(random: () => number, dimensions: number): string {
  const bits = Array.from({ length: dimensions }, () => (random() < 0.5 ? '1' : '0'))
  if (!bits.includes('1')) bits[0] = '1'
  return bits.join('')
}

/** Brute-force distance by metric, over dense number arrays or bit strings. */
export function distance(metric: Metric, a: number[] | string, b: number[] | string): number {
  if (typeof a === 'string' && typeof b === 'string') {
    let differ = 0
    let both = 0
    let either = 0
    for (let i = 0; i < a.length; i++) {
      const x = a[i] === '1'
      const y = b[i] === '1'
      if (x !== y) differ++
      if (x && y) both++
      if (x || y) either++
    }
    return metric === 'hamming' ? differ : 1 - both / either
  }
  const x = a as number[]
  const y = b as number[]
  let dot = 0
  let nx = 0
  let ny = 0
  let l2 = 0
  let l1 = 0
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!
    nx += x[i]! * x[i]!
    ny += y[i]! * y[i]!
    l2 += (x[i]! - y[i]!) ** 2
    l1 += Math.abs(x[i]! - y[i]!)
  }
  switch (metric) {
    case 'l2':
      return Math.sqrt(l2)
    case 'inner_product':
      return -dot
    case 'cosine':
      return 1 - dot / Math.sqrt(nx * ny)
    case 'l1':
      return l1
    default:
      throw new Error(`${metric} is not a dense metric`)
  }
}

/** A sparse vector (0-based) with about `density` of its elements non-zero, as dense too. */
export function sparseVector(
  random: () => number,
  dimensions: number,
  density = 0.25,
): { sparse: { indices: number[]; values: number[]; dimensions: number }; dense: number[] } {
  const dense: number[] = Array.from({ length: dimensions }, () =>
    random() < density ? Math.round((random() * 4 - 2) * 8) / 8 + 0 : 0,
  )
  if (!dense.some((v) => v !== 0)) dense[0] = 1
  const indices: number[] = []
  const values: number[] = []
  dense.forEach((value, index) => {
    if (value !== 0) {
      indices.push(index)
      values.push(value)
    }
  })
  return { sparse: { indices, values, dimensions }, dense }
}

/**
 * Row counts and checksums of `items` and a collection: every table a write could reach, so
 * that a test can check a refused request changed nothing.
 */
export async function tablesState(sql: postgres.Sql, collection: string): Promise<string> {
  const [row] = await sql.unsafe(`
    select
      (select count(*) || ':' || coalesce(md5(string_agg(id::text || embedding::text, ',' order by id)), '') from public.items) as items,
      (select count(*) || ':' || coalesce(md5(string_agg(id || embedding::text || metadata::text, ',' order by id)), '') from public.${collection}) as collection`)
  return `${row!.items}|${row!.collection}`
}
