/**
 * The benchmark's command line, parsed once into the settings every phase reads: the tier,
 * the dataset, the search grid, ingest and the connection budget. Defaults depend on the mode
 * (quick for CI) and the tier (native PostgreSQL or embedded PGlite).
 */
import { parseArgs } from 'node:util'
import { DEFAULT_EF_SEARCH } from '../supabase/functions/_shared/contract.ts'
import type { DatasetSpec, Metric } from './dataset.ts'
import type { Tier } from './database.ts'
import { LAYER_NAMES, type LayerName, layerSupports, usesFunctions } from './layers.ts'

/**
 * The datasets: `synthetic` (the seeded mixture; at ef_search 100 the heavy queries the
 * first targets were set on), `light` (the same vectors at ef_search 40: light queries,
 * where a request's fixed cost shows), `fashion-mnist` (real images, l2, bench/fashion-mnist.ts).
 */
export const DATASETS = ['synthetic', 'light', 'fashion-mnist'] as const
export type DatasetName = (typeof DATASETS)[number]

/** Everything a run does, decided before it starts. */
export interface BenchOptions {
  quick: boolean
  tier: Tier
  dataset: DatasetName
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
  /** Requests per layer whose database round trips are counted (bench/round-trips.ts); 0: none. */
  roundTripRequests: number
  /** Where results go; undefined for the default (bench/results, or the cache in quick mode). */
  out?: string
  /** Native only: keep the loaded database for the next `--reuse` run, and use one left so. */
  reuse: boolean
}

/** A command line the benchmark cannot run; the message names the fix. */
export class BenchOptionsError extends Error {}

/** The text of `--help`. */
export const USAGE = `npm run bench -- [options]   (see bench/README.md)

  --quick               small and short: 2,000 x 64, ef 10/40, 1 and 4 clients, ingest in 500s (CI)
  --native              native PostgreSQL from scripts/install-postgres.sh (root), or MATCHBOX_PG_URL
  --db-url <url>        another PostgreSQL server with pgvector (database matchbox_bench is recreated)
  --dataset synthetic   the seeded mixture (default); grid ef 10…320, targets at ef 100
  --dataset light       the same vectors at ef_search 40 only: light queries, 1 and 16 clients
  --dataset fashion-mnist  Fashion-MNIST from Debian's dataset-fashion-mnist (installed if
                        missing, as root): 60,000 x 784 l2, test images as queries, ef 40/100/200
  --count N --dimensions N --metric cosine|l2|ip --clusters N --spread X --queries N --seed N
  --ef 10,20,…  --concurrency 1,4,16  --seconds S (per cell)  --rounds N (slices per cell)
  --max-requests N  --warmup N  --layers ${LAYER_NAMES.join(',')}
  --pool N              connections of each SQL layer and of the functions (default 4; PGlite 1)
  --ingest-rows N (0: skip)  --batches 100,500,1000  --default-ef N (where targets are read)
  --round-trips N       requests per layer whose database round trips are counted (0: skip)
  --reuse               native: search the rows a former --reuse run loaded for the same data
                        and layers, instead of loading them again (no ingest then)
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
      dataset: { type: 'string', default: 'synthetic' },
      'round-trips': { type: 'string' },
      reuse: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (args.help) return undefined

  const quick = args.quick
  const tier: Tier = args.native || args['db-url'] ? 'native' : 'pglite'
  const native = tier === 'native'
  const dataset = parseDataset(args.dataset ?? 'synthetic')
  const fashion = dataset === 'fashion-mnist'
  if (fashion && (args.dimensions || args.clusters || args.spread || args.metric !== 'cosine')) {
    throw new BenchOptionsError(
      '--dataset fashion-mnist is 784 dimensions, l2: drop --dimensions, --metric, --clusters, --spread',
    )
  }
  const metric = fashion ? 'l2' : parseMetric(args.metric ?? 'cosine')
  const count = int(
    args.count,
    fashion ? (quick ? 5000 : 60_000) : quick ? 2000 : native ? 100_000 : 20_000,
  )
  const spec: DatasetSpec = fashion
    ? {
        source: 'fashion-mnist',
        count,
        dimensions: 784,
        metric,
        clusters: 0,
        spread: 0,
        // 500 test images: the exact answers take minutes on these machines (cached after).
        queries: int(args.queries, quick ? 100 : 500),
        seed: 0,
      }
    : {
        count,
        dimensions: int(args.dimensions, quick ? 64 : 384),
        metric,
        clusters: int(args.clusters, Math.max(4, Math.round(Math.sqrt(count) / 3))),
        spread: Number(args.spread ?? 1),
        queries: int(args.queries, quick ? 100 : 1000),
        seed: int(args.seed, 42),
      }
  if (args.reuse && !native) {
    throw new BenchOptionsError('--reuse keeps a native database: add --native or --db-url')
  }
  if (args.reuse && args['ingest-rows'] && args['ingest-rows'] !== '0') {
    throw new BenchOptionsError('--reuse searches rows already loaded: drop --ingest-rows')
  }
  const preset = DATASET_PRESETS[dataset]
  const defaultEfSearch = int(args['default-ef'], preset.defaultEfSearch)
  // Quick mode leaves out batches of 100: on PGlite one takes seconds, longer than a cell.
  const requested = (args.layers?.split(',') ??
    LAYER_NAMES.filter((name) => !quick || name !== 'vectors-batch100')) as LayerName[]
  for (const name of requested) {
    if (!LAYER_NAMES.includes(name)) {
      throw new BenchOptionsError(`unknown layer ${name}: use ${LAYER_NAMES.join(', ')}`)
    }
  }
  return {
    quick,
    tier,
    dataset,
    ...(args['db-url'] ? { dbUrl: args['db-url'] } : {}),
    spec,
    // The grid, and the default the targets are read at.
    efSearch: [
      ...new Set([...list(args.ef, quick ? preset.quickEf : preset.ef), defaultEfSearch]),
    ].sort((a, b) => a - b),
    defaultEfSearch,
    concurrency: list(args.concurrency, quick ? [1, 4] : preset.concurrency),
    cellSeconds: Number(args.seconds ?? (quick ? 0.5 : 4)),
    rounds: Math.max(1, int(args.rounds, quick ? 1 : 4)),
    maxRequests: int(args['max-requests'], 20_000),
    warmupRequests: int(args.warmup, quick ? 10 : 50),
    // Ingest empties the table, which --reuse keeps.
    ingestRows: args.reuse
      ? 0
      : Math.min(count, int(args['ingest-rows'], quick ? 1000 : native ? 10_000 : 5000)),
    batches: list(args.batches, quick ? [500] : [100, 500, 1000]),
    // One connection budget for every layer: the SQL layers get as many connections as the
    // functions' pool (MATCHBOX_DB_POOL_SIZE), so that no layer wins by running more backends.
    // Native: 4, two per core of these machines: more backends than that make the database
    // spend its CPU on contention (bench/README.md, "Pool size"); the functions' default is 10.
    // PGlite: 1, as `npm start` gives the functions there (it runs one statement at a time).
    poolSize: int(args.pool, native ? 4 : 1),
    layers: requested.filter((name) => layerSupports(name, metric, tier)),
    roundTripRequests: int(args['round-trips'], quick ? 10 : 50),
    ...(args.out ? { out: args.out } : {}),
    reuse: args.reuse,
  }
}

/** What a dataset changes in the search grid when the command line does not say. */
const DATASET_PRESETS: Record<
  DatasetName,
  { ef: number[]; quickEf: number[]; defaultEfSearch: number; concurrency: number[] }
> = {
  synthetic: {
    ef: [10, 20, 40, 80, 160, 320],
    quickEf: [10, 40],
    defaultEfSearch: DEFAULT_EF_SEARCH,
    concurrency: [1, 4, 16],
  },
  light: { ef: [40], quickEf: [40], defaultEfSearch: 40, concurrency: [1, 16] },
  // 40 is the vectors function's default, 100 where the issue reads the ratio to raw SQL.
  'fashion-mnist': { ef: [40, 100, 200], quickEf: [40], defaultEfSearch: 100, concurrency: [1, 8] },
}

/** Whether the run needs the functions server (a layer through it, or ingest). */
export function needsFunctions(options: BenchOptions): boolean {
  return options.layers.some(usesFunctions) || options.ingestRows > 0
}

/** Whether the run loads the collection the `vectors` layer queries. */
export function needsCollection(options: BenchOptions): boolean {
  return options.layers.some((name) => name.startsWith('vectors'))
}

function parseDataset(value: string): DatasetName {
  if ((DATASETS as readonly string[]).includes(value)) return value as DatasetName
  throw new BenchOptionsError(`--dataset must be ${DATASETS.join(', ')}, not ${value}`)
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
