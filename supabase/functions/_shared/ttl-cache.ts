/**
 * A cache of values read from the database (a collection's shape, a column's dimension
 * count), kept as promises so that requests arriving together share one read. A failed read
 * is never kept: the next request reads again.
 */

/** One cached read and when it started. */
export interface CacheEntry<V> {
  readonly at: number
  readonly value: Promise<V>
}

/** A map of reads that expire after an age the caller chooses. */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, CacheEntry<V>>()

  /**
   * The entry for `key`, read again with `load` when there is none or it is older than
   * `maxAgeMs`.
   *
   * @example
   * const { value } = cache.entry('docs', 30_000, () => readCollection(sql, 'docs'))
   */
  entry(key: K, maxAgeMs: number, load: () => Promise<V>): CacheEntry<V> {
    const cached = this.#entries.get(key)
    if (cached && Date.now() - cached.at <= maxAgeMs) return cached
    const fresh: CacheEntry<V> = { at: Date.now(), value: load() }
    this.#entries.set(key, fresh)
    fresh.value.catch(() => this.forget(key, fresh))
    return fresh
  }

  /** Drops `entry`, unless another request has already put a newer one in its place. */
  forget(key: K, entry: CacheEntry<V>): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key)
  }
}
