/**
 * Finding a collection: its shape from the catalog (shape.ts), kept 30 seconds, and read again
 * sooner when the database refuses work that the kept shape allowed.
 */
import { errorCode } from '../_shared/database-errors.ts'
import { database } from '../_shared/db.ts'
import { HttpError } from '../_shared/errors.ts'
import { databaseFailure } from '../_shared/pool.ts'
import { type CacheEntry, TtlCache } from '../_shared/ttl-cache.ts'
import { type Collection, COLLECTION_NAME, readCollection } from './shape.ts'

export type { Collection }

const CACHE_MS = 30_000
const cache = new TtlCache<string, Collection | undefined>()

/**
 * The collection called `name`, from a 30-second cache of the catalog (`withCollection` reads
 * it again sooner when the work is refused).
 *
 * @throws HttpError 404 when no such collection exists.
 */
export async function findCollection(name: string): Promise<Collection> {
  return (await lookUp(name)).collection
}

/** The collection and the cache entry it came from. */
async function lookUp(
  name: string,
): Promise<{ collection: Collection; entry: CacheEntry<Collection | undefined> }> {
  if (!COLLECTION_NAME.test(name)) throw notFound(name)
  const entry = cache.entry(name, CACHE_MS, () => readFromCatalog(name))
  const collection = await entry.value
  if (!collection) {
    // Not cached: a collection created a moment ago is found on the next request.
    cache.forget(name, entry)
    throw notFound(name)
  }
  return { collection, entry }
}

async function readFromCatalog(name: string): Promise<Collection | undefined> {
  try {
    return await readCollection(database(), name)
  } catch (error) {
    throw databaseFailure(error)
  }
}

/** How old a cached shape must be before a refusal makes the catalog be read again. */
const RECHECK_AFTER_MS = 1_000

/**
 * Runs `work` on the collection called `name`, with its shape from the cache. A collection
 * can be dropped and made again with another dimension, type, metric or index while its old
 * shape is cached; the first sign is the work being refused (a 400 for values that fit the
 * old shape only, or the database not finding what it expects). Then the catalog is read
 * again (for a 400, only once the cached shape is a second old), and if the shape has changed
 * the work runs once more on the new one: it failed whole the first time (one transaction),
 * so nothing is written twice. Requests refused together share one read, and a stream of bad
 * requests costs at most one a second.
 *
 * @throws HttpError 404 when no such collection exists (or no longer does).
 */
export async function withCollection<T>(
  name: string,
  work: (collection: Collection) => Promise<T>,
): Promise<T> {
  const { collection: cached, entry } = await lookUp(name)
  try {
    return await work(cached)
  } catch (error) {
    if (!worthRereading(error, entry.at)) throw error
    cache.forget(name, entry)
    const current = await findCollection(name)
    if (sameShape(current, cached)) throw error
    return await work(current)
  }
}

/** Database refusals that a table changed since its shape was cached would explain. */
const SCHEMA_CHANGED = new Set([
  '42P01', // undefined_table
  '42703', // undefined_column
  '42883', // undefined_function (an operator for another type)
  '42804', // datatype_mismatch
])

/**
 * Whether a refusal is worth a fresh read of the catalog: always when the database could not
 * find what the cached shape promised (else a 500), and for a 400, which may well be the
 * caller's own mistake, only once the cached shape is a second old.
 */
function worthRereading(error: unknown, cachedAt: number): boolean {
  if (error instanceof HttpError)
    return error.status === 400 && Date.now() - cachedAt >= RECHECK_AFTER_MS
  const code = errorCode(error)
  return typeof code === 'string' && SCHEMA_CHANGED.has(code)
}

function sameShape(a: Collection, b: Collection): boolean {
  return (
    a.columnType === b.columnType &&
    a.metric === b.metric &&
    a.index === b.index &&
    a.lists === b.lists &&
    a.access === b.access &&
    a.textLanguage === b.textLanguage
  )
}

function notFound(name: string): HttpError {
  // A name from the URL may be any length: the message shows a bounded part of it.
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name
  return new HttpError(404, 'not_found', `collection ${JSON.stringify(shown)} not found`)
}
