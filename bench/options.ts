/**
 * The benchmark's command line, parsed once into the settings every phase reads: the tier,
 * the dataset, the search grid, ingest and the connection budget. Defaults depend on the mode
 * (quick for CI) and the tier (native PostgreSQL or embedded PGlite).
 */
import { parseArgs } from 'node:util'
import { DEFAULT_EF_SEARCH } from '../supabase/functions/_shared/contract.ts'
import type { DatasetSpec, Metric } from './dataset.ts'
import type { Tier } from './database.ts'
import { LAYER_NAMES, type LayerName, layerSupports } from './layers.ts'

/** Everything a run does, decided before it starts. */
export interface BenchOptions {
  quick: boolean
  tier: Tier
  /** `--db-url`: another native server; otherwise the installed one (native) or none (PGlite). */
  dbUrl?: string
  spec: DatasetSpec
  /** `ef_search` values of the grid, ascending, the default included. */
  efSearch: number[]
  /** The `ef_search` the targets are read at. */
  defaultEfSearch: number
  concurrency: number[]
  cellSeconds: number
  /** Slices per cell, interleaved across layers. */
  rounds: number
  maxRequests: number
  warmupRequests: number
  /** Rows each ingest measurement inserts; 0 skips ingest. */
  ingestRows: number
  batches: number[]
  /** Connections of each SQL layer's pool and of the functions' pool. */
  poolSize: number
  /** The layers that run: those asked for that the metric and tier support. */
  layers: LayerName[]
  /** Where results go; undefined for the default (bench/results, or the cache in quick mode). */
  out?: string
}

/** A command line the benchmark cannot run; the message names the fix. */
export class BenchOptionsError extends Error {}

/** The text of `--help`. */
export const USAGE = `npm run bench -- [options]   (see bench/README.md)

  --quick               small and short: 2,000 x 64, ef 10/40, 1 and 4 clients (CI)
  --native              native PostgreSQL from scripts/install-postgres.sh (root), or MATCHBOX_PG_URL
  --db-url <url>        another PostgreSQL server with pgvector (database matchbox_bench is recreated)
  --count N --dimensions N --metric cosine|l2|ip --clusters N --spread X --queries N --seed N
  --ef 10,20,…  --concurrency 1,4,16  --seconds S (per cell)  --rounds N (slices per cell)
  --max-requests N  --warmup N  --layers ${LAYER_NAMES.join(',')}
  --pool N              connections of each SQL layer and of the functions (default 4; PGlite 1)
  --ingest-rows N (0: skip)  --batches 100,500,1000  --default-ef N (where targets are read)
  --out <dir>           where results go (default bench/results; bench/.cache/results in quick mode)`

/**
 * Parses the benchmark's arguments; answers undefined for `--help`.
 *
 * @example
 * parseBenchOptions(['--quick']) // { quick: true, tier: 'pglite', spec: { count: 2000, … }, … }
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | undefined {
  const { values: args } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      native: { type: 'boolean', default: false },
      'db-url': { type: 'string' },
      count: { type: 'string' },
      dimensions: { type: 'string' },
      metric: { type: 'string', default: 'cosine' },
      clusters: { type: 'string' },
      spread: { type: 'string' },
      queries: { type: 'string' },
      seed: { type: 'string', default: '42' },
      ef: { type: 'string' },
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      'max-requests': { type: 'string' },
      warmup: { type: 'string' },
      layers: { type: 'string' },
      'ingest-rows': { type: 'string' },
      batches: { type: 'string' },
      'default-ef': { type: 'string' },
      pool: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (args.help) return undefined

  const quick = args.quick
  const tier: Tier = args.native || args['db-url'] ? 'native' : 'pglite'
  const native = tier === 'native'
  const metric = parseMetric(args.metric ?? 'cosine')
  const count = int(args.count, quick ? 2000 : native ? 100_000 : 20_000)
  const spec: DatasetSpec = {
    count,
    dimensions: int(args.dimensions, quick ? 64 : 384),
    metric,
    clusters: int(args.clusters, Math.max(4, Math.round(Math.sqrt(count) / 3))),
    spread: Number(args.spread ?? 1),
    queries: int(args.queries, quick ? 100 : 1000),
    seed: int(args.seed, 42),
  }
  const defaultEfSearch = int(args['default-ef'], DEFAULT_EF_SEARCH)
  const requested = (args.layers?.split(',') ?? [...LAYER_NAMES]) as LayerName[]
  for (const name of requested) {
    if (!LAYER_NAMES.includes(name)) {
      throw new BenchOptionsError(`unknown layer ${name}: use ${LAYER_NAMES.join(', ')}`)
    }
  }
  return {
    quick,
    tier,
    ...(args['db-url'] ? { dbUrl: args['db-url'] } : {}),
    spec,
    // The grid of the issue, and the default the targets are read at.
    efSearch: [
      ...new Set([
        ...list(args.ef, quick ? [10, 40] : [10, 20, 40, 80, 160, 320]),
        defaultEfSearch,
      ]),
    ].sort((a, b) => a - b),
    defaultEfSearch,
    concurrency: list(args.concurrency, quick ? [1, 4] : [1, 4, 16]),
    cellSeconds: Number(args.seconds ?? (quick ? 0.5 : 4)),
    rounds: Math.max(1, int(args.rounds, quick ? 1 : 4)),
    maxRequests: int(args['max-requests'], 20_000),
    warmupRequests: int(args.warmup, quick ? 10 : 50),
    ingestRows: Math.min(count, int(args['ingest-rows'], quick ? 1000 : native ? 10_000 : 5000)),
    batches: list(args.batches, quick ? [100, 1000] : [100, 500, 1000]),
    // One connection budget for every layer: the SQL layers get as many connections as the
    // functions' pool (MATCHBOX_DB_POOL_SIZE), so that no layer wins by running more backends.
    // Native: 4, two per core of these machines: more backends than that make the database
    // spend its CPU on contention (bench/README.md, "Pool size"); the functions' default is 10.
    // PGlite: 1, as `npm start` gives the functions there (it runs one statement at a time).
    poolSize: int(args.pool, native ? 4 : 1),
    layers: requested.filter((name) => layerSupports(name, metric, tier)),
    ...(args.out ? { out: args.out } : {}),
  }
}

/** Whether the run needs the functions server (a layer through it, or ingest). */
export function needsFunctions(options: BenchOptions): boolean {
  return (
    options.layers.includes('function') || options.layers.includes('sdk') || options.ingestRows > 0
  )
}

function parseMetric(value: string): Metric {
  if (value === 'cosine' || value === 'l2' || value === 'ip') return value
  throw new BenchOptionsError(`--metric must be cosine, l2 or ip, not ${value}`)
}

function int(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) {
    throw new BenchOptionsError(`expected a whole number, not ${value}`)
  }
  return number
}

function list(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback
  return value.split(',').map((item) => int(item.trim(), 0))
}
