/**
 * Types of the metadata filter language, checked against a collection's metadata type: a
 * field is a key or a dotted path (`author.name`) of the metadata, and each operator takes
 * the field's own value type.
 */

type Scalar = string | number | boolean | null

/** The operators a scalar field takes. */
export interface ScalarOperators<V> {
  $eq?: V
  $ne?: V
  $gt?: V & (number | string)
  $gte?: V & (number | string)
  $lt?: V & (number | string)
  $lte?: V & (number | string)
  $in?: V[]
  $nin?: V[]
  $exists?: boolean
}

/**
 * The operators an array field (of scalars) takes: `$contains` one element or all of a list,
 * `$in`/`$nin` any element in the list / none, `$eq`/`$ne` the exact array.
 */
export interface ArrayOperators<E> {
  $eq?: E[]
  $ne?: E[]
  $contains?: E | E[]
  $in?: E[]
  $nin?: E[]
  $exists?: boolean
}

/** The operators one field takes, by its value type. */
export type FieldOperators<V> = [NonNullable<V>] extends [readonly (infer E)[]]
  ? [E] extends [Scalar]
    ? ArrayOperators<E>
    : { $exists?: boolean }
  : ScalarOperators<V>

type Depth = [never, 0, 1, 2, 3, 4]

/** The dotted paths of `T`'s fields, to four levels. */
export type FieldPath<T, D extends number = 4> = [D] extends [never]
  ? never
  : T extends Scalar | readonly unknown[]
    ? never
    : {
        [K in keyof T & string]: T[K] extends Scalar | readonly unknown[]
          ? K
          : K | `${K}.${FieldPath<NonNullable<T[K]>, Depth[D]>}`
      }[keyof T & string]

/** The value type at a dotted path. */
export type FieldValue<T, P extends string> = P extends `${infer K}.${infer Rest}`
  ? K extends keyof T
    ? FieldValue<NonNullable<T[K]>, Rest>
    : unknown
  : P extends keyof T
    ? T[P]
    : unknown

/** A bare value (equality; for an array field, the exact array) or operators. */
export type FieldCondition<V> = [NonNullable<V>] extends [readonly (infer E)[]]
  ? [E] extends [Scalar]
    ? E[] | ArrayOperators<E>
    : { $exists?: boolean }
  : V | ScalarOperators<V>

/**
 * A filter on metadata of type `M`.
 *
 * @example
 * const filter: Filter<{ category: string; year: number; tags: string[] }> = {
 *   category: 'news',
 *   year: { $gte: 2020 },
 *   tags: { $contains: 'pgvector' }, // with `tags: string[]` in M
 *   $or: [{ category: 'blog' }, { year: { $lt: 2000 } }],
 * }
 */
export type Filter<M = Record<string, unknown>> = {
  [P in FieldPath<M>]?: FieldCondition<FieldValue<M, P>>
} & {
  $and?: Filter<M>[]
  $or?: Filter<M>[]
}
