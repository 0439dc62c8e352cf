/**
 * Ingest: rows per second into the indexed `public.items` through the `items` function (over
 * HTTP, and through the SDK) in batches, against COPY into the same indexed table; then the
 * bulk load the searches use (COPY with no index) and the index build on its own.
 */
import type postgres from 'postgres'
import { createItemsClient } from '../src/index.ts'
import { type Dataset, row, vectorArray } from './dataset.ts'
import { buildIndex, dropIndex, emptyItems, loadRows, type Tier } from './database.ts'

/** One ingest measurement. */
export interface IngestResult {
  /** `function` (HTTP), `sdk`, or `copy` (`insert` on PGlite, which takes no COPY FROM STDIN). */
  method: 'function' | 'sdk' | 'copy'
  /** Rows per request; absent for COPY (one stream). */
  batch?: number
  /** Whether the HNSW index was there to be maintained. */
  indexed: boolean
  rows: number
  ms: number
  rowsPerSecond: number
}

/** What the ingest phase needs. */
export interface IngestOptions {
  sql: postgres.Sql
  tier: Tier
  dataset: Dataset
  /** Rows each measurement inserts (the first rows of the dataset). */
  rows: number
  batches: readonly number[]
  apiUrl: string
  serviceRoleKey: string
  log: (line: string) => void
}

/** Measures inserts into the empty, indexed table; leaves it empty, with its index. */
export async function measureIngest(options: IngestOptions): Promise<IngestResult[]> {
  const { sql, dataset, rows, log } = options
  const embeddings = Array.from({ length: rows }, (_, i) =>
    vectorArray(row(dataset.vectors, dataset.spec.dimensions, i)),
  )
  const results: IngestResult[] = []
  const record = (result: Omit<IngestResult, 'rowsPerSecond'>) => {
    const full = withRate(result)
    results.push(full)
    const how = result.batch ? `${result.method}, batches of ${result.batch}` : result.method
    log(
      `  ${how}: ${full.rows} rows in ${(full.ms / 1000).toFixed(2)} s, ${Math.round(full.rowsPerSecond)} rows/s`,
    )
  }

  await emptyItems(sql)
  await dropIndex(sql)
  await buildIndex(sql, dataset.spec.metric)

  const url = `${options.apiUrl}/functions/v1/items`
  const headers = {
    authorization: `Bearer ${options.serviceRoleKey}`,
    apikey: options.serviceRoleKey,
    'content-type': 'application/json',
  }
  const sdk = createItemsClient({ url: options.apiUrl, key: options.serviceRoleKey })
  for (const batch of options.batches) {
    for (const method of ['function', 'sdk'] as const) {
      await emptyItems(sql)
      const started = performance.now()
      for (let start = 0; start < rows; start += batch) {
        const slice = embeddings.slice(start, start + batch)
        if (method === 'sdk') {
          const { error } = await sdk.insertItems(slice)
          if (error) throw error
        } else {
          const response = await fetch(url, {
            method: 'POST',
            headers,
            body: JSON.stringify({ items: slice.map((embedding) => ({ embedding })) }),
          })
          if (response.status !== 201)
            throw new Error(`HTTP ${response.status}: ${await response.text()}`)
          await response.json()
        }
      }
      record({ method, batch, indexed: true, rows, ms: performance.now() - started })
    }
  }

  await emptyItems(sql)
  record({
    method: 'copy',
    indexed: true,
    rows,
    ms: await loadRows(sql, options.tier, dataset, 0, rows),
  })
  await emptyItems(sql)
  return results
}

/** The searches' table: every row loaded with no index, then the index built. */
export interface BulkLoad {
  load: IngestResult
  indexBuildMs: number
}

/** Loads the whole dataset into the empty table with no index, then builds the index. */
export async function bulkLoad(
  sql: postgres.Sql,
  tier: Tier,
  dataset: Dataset,
  log: (line: string) => void,
): Promise<BulkLoad> {
  const rows = dataset.spec.count
  await emptyItems(sql)
  await dropIndex(sql)
  const ms = await loadRows(sql, tier, dataset, 0, rows)
  const load = withRate({ method: 'copy', indexed: false, rows, ms })
  log(
    `  ${tier === 'native' ? 'COPY' : 'INSERT'} of ${rows} rows, no index: ${(ms / 1000).toFixed(1)} s`,
  )
  const indexBuildMs = await buildIndex(sql, dataset.spec.metric)
  log(`  HNSW index build (m 16, ef_construction 64): ${(indexBuildMs / 1000).toFixed(1)} s`)
  // As autovacuum would after a bulk load; done now, so that it does not run during the searches.
  await sql`vacuum analyze public.items`
  return { load, indexBuildMs }
}

/** A measurement with its rate. */
function withRate(result: Omit<IngestResult, 'rowsPerSecond'>): IngestResult {
  return { ...result, rowsPerSecond: (result.rows / result.ms) * 1000 }
}
