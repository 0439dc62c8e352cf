/**
 * `npm run bench`: recall@10, QPS and latency of a search through every layer (raw SQL, the
 * match RPC, the edge function over HTTP, the SDK) against the same database in the same run,
 * ingest rates against COPY, the index build, and the functions' memory. See bench/README.md.
 *
 *   npm run bench -- --quick          a few seconds on embedded PGlite (CI)
 *   npm run bench                     full mode on embedded PGlite, 20,000 × 384
 *   npm run bench -- --native         full mode on native PostgreSQL, 100,000 × 384
 *
 * One function per phase: the data and its exact answers, the servers, ingest, the searches,
 * and the report; `main` runs them in order and stops every server it started.
 */
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import type postgres from 'postgres'
import { readProjectConfig } from '../stack/config.ts'
import { type FunctionsServer, startFunctionsServer } from '../stack/functions-server.ts'
import { resolveKeys, type StackKeys } from '../stack/keys.ts'
import { nativeServerUrl } from '../stack/native-postgres.ts'
import { binary, ROOT } from '../stack/paths.ts'
import { freePort } from '../stack/ports.ts'
import { redact } from '../stack/stack.ts'
import { addCpu, CpuMeter, type CpuTotals, perRequest } from './cpu.ts'
import { type Dataset, generateDataset, row, vectorArray } from './dataset.ts'
import {
  adminConnection,
  BENCH_COLLECTION,
  type BenchDatabase,
  loadCollection,
  markLoaded,
  openEmbeddedDatabase,
  openNativeDatabase,
  resizeItems,
  serverVersions,
} from './database.ts'
import { fashionMnistDataset } from './fashion-mnist.ts'
import { cacheKey, cachedGroundTruth, type GroundTruth, recallAt } from './ground-truth.ts'
import { type BulkLoad, bulkLoad, type IngestResult, measureIngest } from './ingest.ts'
import {
  createLayer,
  K,
  type LayerContext,
  type LayerName,
  type SearchLayer,
  searchRequest,
  usesFunctions,
} from './layers.ts'
import { type LoadSample, runLoad, summarize } from './load.ts'
import { processMemory } from './memory.ts'
import {
  type BenchOptions,
  BenchOptionsError,
  needsCollection,
  needsFunctions,
  parseBenchOptions,
  USAGE,
} from './options.ts'
import {
  type BenchResults,
  computeTargets,
  markdownReport,
  type RoundTripCount,
  type SearchCell,
  writeResults,
} from './report.ts'
import { startCountingProxy } from './round-trips.ts'

const CACHE_DIR = path.join(ROOT, 'bench', '.cache')
const RESULTS_DIR = path.join(ROOT, 'bench', 'results')

function log(line: string): void {
  console.log(line)
}

/** The dataset, its exact answers, and each query made once as the layers take it. */
interface PreparedData {
  dataset: Dataset
  truth: GroundTruth & { cached: boolean; ms: number }
  queries: number[][]
  exact: Int32Array[]
}

/** What the run started: the database, the functions and the keys they check. */
interface Servers {
  database: BenchDatabase
  /** The rows were loaded by a former `--reuse` run: no resize, no load. */
  reused: boolean
  adminSql: postgres.Sql
  versions: { postgres: string; pgvector: string }
  keys: StackKeys
  apiUrl: string
  functions?: FunctionsServer
}

/** Says what this run will do before it starts. */
function announce(options: BenchOptions): void {
  const { spec } = options
  const tierLabel = options.tier === 'native' ? 'native PostgreSQL' : 'embedded PGlite'
  log(
    `Matchbox bench, ${options.quick ? 'quick' : 'full'} mode, ${tierLabel}, dataset ${options.dataset}`,
  )
  if (spec.metric !== 'cosine') {
    log(
      `${spec.metric} distance: match_items searches by cosine distance only, so rpc, function and sdk do not run`,
    )
  }
  if (options.tier === 'pglite')
    log('PGlite: the bare SQL layers are skipped (it ignores per-connection settings)')
  log(
    spec.source
      ? `dataset: ${spec.source}, ${spec.count} x ${spec.dimensions} ${spec.metric}, ${spec.queries} queries`
      : `dataset: ${spec.count} x ${spec.dimensions} ${spec.metric}, ${spec.clusters} clusters, ${spec.queries} queries, seed ${spec.seed}`,
  )
  log(`layers: ${options.layers.join(', ')}; ef_search ${options.efSearch.join(', ')}`)
}

/** Phase 1: the dataset and its exact top `K`, from the cache when it was computed before. */
function prepareData(options: BenchOptions): PreparedData {
  const { spec } = options
  const dataset =
    spec.source === 'fashion-mnist'
      ? fashionMnistDataset({ count: spec.count, queries: spec.queries }, log)
      : generateDataset(spec)
  const truth = cachedGroundTruth(dataset, K, CACHE_DIR, log)
  if (!truth.cached) log(`  exact top-${K} computed in ${(truth.ms / 1000).toFixed(1)} s`)
  const queries = Array.from({ length: spec.queries }, (_, i) =>
    vectorArray(row(dataset.queries, spec.dimensions, i)),
  )
  const exact = queries.map((_, q) => truth.ids.subarray(q * K, (q + 1) * K))
  return { dataset, truth, queries, exact }
}

/**
 * Phase 2: a fresh migrated database with `public.items` resized to the dataset, and the
 * functions when a layer or ingest needs them. `started` receives each server as soon as it
 * runs, so that the caller can stop it even if a later step fails.
 */
async function startServers(options: BenchOptions, started: Partial<Servers>): Promise<Servers> {
  const opened =
    options.tier === 'native'
      ? await openNativeDatabase(
          options.dbUrl ?? (await nativeServerUrl()),
          options.spec,
          options.reuse ? reuseKey(options) : undefined,
        )
      : { ...(await openEmbeddedDatabase()), loaded: false }
  const database = (started.database = opened)
  const reused = opened.loaded
  log(
    `database: ${redact(database.url)}, ${reused ? 'loaded by a former --reuse run' : 'migrated'}`,
  )
  const adminSql = (started.adminSql = adminConnection(database.url))
  if (database.tier === 'pglite') await adminSql`set maintenance_work_mem = '512MB'`
  if (!reused) await resizeItems(adminSql, options.spec.dimensions)
  const versions = await serverVersions(adminSql)

  const keys = await resolveKeys()
  const apiUrl = `http://127.0.0.1:${await freePort()}`
  const servers: Servers = { database, reused, adminSql, versions, keys, apiUrl }
  if (needsFunctions(options)) {
    // Started after the resize, so that the functions read the new dimension.
    servers.functions = started.functions = await startFunctions(options, database, keys, apiUrl)
    log(`functions: ${apiUrl} (pool of ${options.poolSize} connections)`)
  }
  return servers
}

async function startFunctions(
  options: BenchOptions,
  database: BenchDatabase,
  keys: StackKeys,
  apiUrl: string,
): Promise<FunctionsServer> {
  const functionLogs: string[] = []
  return await startFunctionsServer({
    port: Number(new URL(apiUrl).port),
    functions: readProjectConfig().functions,
    jwtSecret: keys.jwtSecret,
    log: (line) => {
      functionLogs.push(line)
      if (functionLogs.length <= 20) console.error(`functions: ${line}`)
    },
    env: {
      SUPABASE_URL: apiUrl,
      SUPABASE_ANON_KEY: keys.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
      SUPABASE_DB_URL: database.url,
      MATCHBOX_DB_POOL_SIZE: String(options.poolSize),
    },
  })
}

/** Phase 3: inserts through the function and the SDK against COPY, into the indexed table. */
async function ingestPhase(
  options: BenchOptions,
  servers: Servers,
  dataset: Dataset,
): Promise<IngestResult[]> {
  if (options.ingestRows === 0) return []
  log(`ingest: ${options.ingestRows} rows into the empty indexed table, each way`)
  return await measureIngest({
    sql: servers.adminSql,
    tier: servers.database.tier,
    dataset,
    rows: options.ingestRows,
    batches: options.batches,
    apiUrl: servers.apiUrl,
    serviceRoleKey: servers.keys.serviceRoleKey,
    log,
  })
}

/**
 * Phase 4: the whole dataset loaded with no index, then the index built; the same rows into
 * the collection the `vectors` layer queries, when it runs.
 */
async function loadPhase(
  options: BenchOptions,
  servers: Servers,
  dataset: Dataset,
): Promise<{ bulkLoad?: BulkLoad; collection?: { loadMs: number; indexBuildMs: number } }> {
  if (servers.reused) return {}
  log('bulk load:')
  const load = await bulkLoad(servers.adminSql, servers.database.tier, dataset, log)
  // A database kept for --reuse has the collection too, whatever layers the next run asks for.
  if (!needsCollection(options) && !options.reuse) return { bulkLoad: load }
  const collection = await loadCollection(servers.adminSql, servers.database.tier, dataset, log)
  if (options.reuse) await markLoaded(servers.adminSql, reuseKey(options))
  return { bulkLoad: load, collection }
}

/** What a database kept by `--reuse` holds: the dataset, in items and the collection. */
function reuseKey(options: BenchOptions): string {
  return `${cacheKey(options.spec, K)}+${BENCH_COLLECTION}`
}

/** What the layers need to reach the database and the functions. */
function layerContext(options: BenchOptions, servers: Servers): LayerContext {
  return {
    dbUrl: servers.database.url,
    apiUrl: servers.apiUrl,
    anonKey: servers.keys.anonKey,
    metric: options.spec.metric,
    poolSize: options.poolSize,
    collection: BENCH_COLLECTION,
    tier: servers.database.tier,
  }
}

/**
 * Phase 5: every (ef_search, concurrency) cell through every layer, each cell in slices
 * interleaved across the layers, with the CPU each process spent.
 */
async function searchPhase(
  options: BenchOptions,
  servers: Servers,
  data: PreparedData,
): Promise<{ cells: SearchCell[]; layers: { name: LayerName; description: string }[] }> {
  const layers: SearchLayer[] = []
  const cells: SearchCell[] = []
  try {
    for (const name of options.layers)
      layers.push(await createLayer(name, layerContext(options, servers)))
    const meter = new CpuMeter(
      servers.adminSql,
      () => [
        ...(servers.functions ? [servers.functions.process.pid!] : []),
        ...layers.flatMap((layer) => (layer.serverPid ? [layer.serverPid] : [])),
      ],
      servers.database.process?.pid,
    )
    log(
      `search: ${options.cellSeconds} s or ${options.maxRequests} requests per cell, in ${options.rounds} slice(s) interleaved across layers`,
    )
    for (const ef of options.efSearch) {
      for (const clients of options.concurrency) {
        cells.push(...(await searchCell(options, layers, meter, data, ef, clients)))
      }
    }
  } finally {
    await Promise.all(layers.map((layer) => layer.close()))
  }
  return {
    cells,
    layers: layers.map((layer) => ({ name: layer.name, description: layer.description })),
  }
}

/** One (ef_search, concurrency) cell of every layer, logged as it completes. */
async function searchCell(
  options: BenchOptions,
  layers: readonly SearchLayer[],
  meter: CpuMeter,
  { queries, exact }: PreparedData,
  ef: number,
  clients: number,
): Promise<SearchCell[]> {
  const samples = new Map<LayerName, LoadSample[]>()
  const cpu = new Map<LayerName, CpuTotals>()
  for (let round = 0; round < options.rounds; round++) {
    for (const layer of layers) {
      const earlier = samples.get(layer.name) ?? []
      const warmup =
        round === 0 ? options.warmupRequests : Math.min(options.warmupRequests, 2 * clients)
      const sample = await runLoad({
        concurrency: clients,
        durationMs: (options.cellSeconds * 1000) / options.rounds,
        maxRequests: Math.ceil(options.maxRequests / options.rounds),
        // In full before the first slice; a few after the other layers' slices. Counted in
        // queries: a batch layer's request carries `batch` of them.
        warmupRequests: layer.batch ? Math.ceil(warmup / layer.batch) : warmup,
        firstIndex: earlier.at(-1)?.nextIndex ?? 0,
        onMeasureStart: () => meter.start(),
        request: (index) =>
          searchRequest(layer, queries, index, ef, (ids, q) => recallAt(ids, exact[q]!, K)),
      })
      samples.set(layer.name, [...earlier, sample])
      cpu.set(layer.name, addCpu(cpu.get(layer.name), await meter.stop()))
    }
  }
  return layers.map((layer) => {
    const result = summarize(samples.get(layer.name)!)
    // A batch layer's request answers `batch` queries: QPS and CPU count queries.
    const batch = layer.batch ?? 1
    const cell: SearchCell = {
      layer: layer.name,
      efSearch: ef,
      concurrency: clients,
      ...(layer.batch ? { batch } : {}),
      requests: result.requests,
      errors: result.errors,
      ...(result.firstError ? { firstError: result.firstError } : {}),
      qps: result.qps * batch,
      p50: result.p50,
      p95: result.p95,
      p99: result.p99,
      mean: result.mean,
      recall: result.score,
      cpu: perRequest(cpu.get(layer.name)!, result.requests * batch),
    }
    log(
      `  ${layer.name.padEnd(12)} ef ${String(ef).padStart(3)}  c ${String(clients).padStart(2)}: ` +
        `${String(Math.round(cell.qps)).padStart(5)} QPS  p50 ${cell.p50.toFixed(2)} p95 ${cell.p95.toFixed(2)} p99 ${cell.p99.toFixed(2)} ms  ` +
        `recall ${cell.recall.toFixed(3)}  cpu ms/req ${cell.cpu.client.toFixed(2)}/${cell.cpu.functions.toFixed(2)}/${cell.cpu.database.toFixed(2)}${cell.errors ? `  ${cell.errors} errors: ${cell.firstError}` : ''}`,
    )
    return cell
  })
}

/**
 * Phase 6: the database round trips of one request through each layer, counted on the wire
 * (bench/round-trips.ts): every layer, and a second functions server, reach the database
 * through a counting proxy; `roundTripRequests` requests one after another, after a warm-up.
 * The searches themselves never go through the proxy.
 */
async function roundTripPhase(
  options: BenchOptions,
  servers: Servers,
  { queries }: PreparedData,
): Promise<RoundTripCount[]> {
  if (options.roundTripRequests === 0) return []
  const proxy = await startCountingProxy(servers.database.url)
  let functions: FunctionsServer | undefined
  const counts: RoundTripCount[] = []
  try {
    const apiUrl = `http://127.0.0.1:${await freePort()}`
    if (options.layers.some(usesFunctions)) {
      functions = await startFunctions(
        options,
        { ...servers.database, url: proxy.url },
        servers.keys,
        apiUrl,
      )
    }
    const context = { ...layerContext(options, servers), dbUrl: proxy.url, apiUrl }
    const ef = options.defaultEfSearch
    for (const name of options.layers) {
      const layer = await createLayer(name, context)
      try {
        // Counted in queries: a batch layer's request carries `batch` of them.
        const requests = Math.max(2, Math.ceil(options.roundTripRequests / (layer.batch ?? 1)))
        const warmup = Math.max(1, Math.ceil(10 / (layer.batch ?? 1)))
        for (let i = 0; i < warmup; i++) await searchRequest(layer, queries, i, ef, () => 0)
        proxy.reset()
        for (let i = 0; i < requests; i++) await searchRequest(layer, queries, i, ef, () => 0)
        const { roundTrips, statements } = proxy.counts()
        const count: RoundTripCount = {
          layer: name,
          requests,
          roundTrips: roundTrips / requests,
          statements: statements / requests,
        }
        counts.push(count)
        log(
          `  ${name.padEnd(12)} ${count.roundTrips.toFixed(2)} round trips, ${count.statements.toFixed(2)} statements per request`,
        )
      } finally {
        await layer.close()
      }
    }
  } finally {
    await functions?.stop()
    await proxy.close()
  }
  return counts
}

/** Phase 7: the results as JSON, Markdown and SVG, printed and written. */
function reportPhase(
  options: BenchOptions,
  startedAt: Date,
  servers: Servers,
  data: PreparedData,
  measured: {
    search: Awaited<ReturnType<typeof searchPhase>>
    ingest: IngestResult[]
    load: Awaited<ReturnType<typeof loadPhase>>
    roundTrips: RoundTripCount[]
  },
): void {
  const { spec } = options
  const partial: Omit<BenchResults, 'targets'> = {
    version: 2,
    date: startedAt.toISOString(),
    mode: options.quick ? 'quick' : 'full',
    tier: servers.database.tier,
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.versions.node,
      deno: denoVersion(),
      postgres: servers.versions.postgres,
      pgvector: servers.versions.pgvector,
    },
    datasetName: options.dataset,
    dataset: spec,
    groundTruth: { k: K, cached: data.truth.cached, computeMs: data.truth.ms },
    settings: {
      efSearch: options.efSearch,
      concurrency: options.concurrency,
      cellSeconds: options.cellSeconds,
      rounds: options.rounds,
      maxRequestsPerCell: options.maxRequests,
      warmupRequests: options.warmupRequests,
      poolSize: options.poolSize,
      defaultEfSearch: options.defaultEfSearch,
      ingestRows: options.ingestRows,
    },
    layers: measured.search.layers,
    search: measured.search.cells,
    ingest: measured.ingest,
    ...(measured.load.bulkLoad ? { bulkLoad: measured.load.bulkLoad } : {}),
    ...(measured.load.collection ? { collectionLoad: measured.load.collection } : {}),
    roundTrips: measured.roundTrips,
    memory: {
      ...(servers.functions ? { functions: processMemory(servers.functions.process.pid) } : {}),
      ...(servers.database.process
        ? { database: processMemory(servers.database.process.pid) }
        : {}),
    },
  }
  const results: BenchResults = { ...partial, targets: computeTargets(partial) }
  const dir = options.out ?? (options.quick ? path.join(CACHE_DIR, 'results') : RESULTS_DIR)
  const name = [
    startedAt.toISOString().slice(0, 10),
    servers.database.tier,
    ...(spec.source ? [spec.source] : []),
    `${spec.count}x${spec.dimensions}`,
    ...(spec.metric === 'cosine' ? [] : [spec.metric]),
    ...(options.dataset === 'light' ? ['light'] : []),
    ...(options.quick ? ['quick'] : []),
  ].join('-')
  const files = writeResults(dir, name, results)
  log('')
  log(markdownReport(results))
  log(`written: ${files.map((file) => path.relative(ROOT, file)).join(', ')}`)
  const failed = measured.search.cells.filter((c) => c.errors > 0)
  if (failed.length) {
    console.error(`bench: ${failed.length} cells had failed requests (see above)`)
    process.exitCode = 1
  }
}

async function main(): Promise<void> {
  const options = parseOrExit(process.argv.slice(2))
  const startedAt = new Date()
  announce(options)
  const data = prepareData(options)

  const started: Partial<Servers> = {}
  process.once('exit', () => {
    // Last resort after a crash: no server may outlive the benchmark.
    started.functions?.process.kill('SIGKILL')
    started.database?.process?.kill('SIGKILL')
  })
  try {
    const servers = await startServers(options, started)
    const ingest = await ingestPhase(options, servers, data.dataset)
    const load = await loadPhase(options, servers, data.dataset)
    const search = await searchPhase(options, servers, data)
    if (options.roundTripRequests > 0) log('database round trips per request:')
    const roundTrips = await roundTripPhase(options, servers, data)
    reportPhase(options, startedAt, servers, data, { search, ingest, load, roundTrips })
  } finally {
    await started.adminSql?.end()
    await started.functions?.stop()
    await started.database?.stop()
  }
}

function parseOrExit(argv: string[]): BenchOptions {
  try {
    const options = parseBenchOptions(argv)
    if (options) return options
    console.log(USAGE)
    process.exit(0)
  } catch (error) {
    if (!(error instanceof BenchOptionsError) && !(error instanceof TypeError)) throw error
    // TypeError: node:util's parseArgs on an unknown option.
    console.error(`bench: ${error.message}`)
    process.exit(1)
  }
}

function denoVersion(): string {
  try {
    return (
      /deno (\S+)/.exec(execFileSync(binary('deno'), ['--version'], { encoding: 'utf8' }))?.[1] ??
      'unknown'
    )
  } catch {
    return 'unknown'
  }
}

// A connection-level database error (no query waiting for it) must not end the run with
// the servers still up: it is reported, and the cells count their own failures.
process.on('unhandledRejection', (error) => {
  console.error('bench: unhandled rejection:', error instanceof Error ? error.message : error)
  process.exitCode = 1
})

main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error)
    process.exit(1)
  },
)
