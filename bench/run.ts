/**
 * `npm run bench`: recall@10, QPS and latency of a search through every layer (raw SQL, the
 * match RPC, the edge function over HTTP, the SDK) against the same database in the same run,
 * ingest rates against COPY, the index build, and the functions' memory. See bench/README.md.
 *
 *   npm run bench -- --quick          a few seconds on embedded PGlite (CI)
 *   npm run bench                     full mode on embedded PGlite, 20,000 × 384
 *   npm run bench -- --native         full mode on native PostgreSQL, 100,000 × 384
 */
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type postgres from 'postgres'
import { readProjectConfig } from '../stack/config.ts'
import { type FunctionsServer, startFunctionsServer } from '../stack/functions-server.ts'
import { resolveKeys } from '../stack/keys.ts'
import { DEFAULT_EF_SEARCH } from '../supabase/functions/_shared/contract.ts'
import { nativeServerUrl } from '../stack/native-postgres.ts'
import { binary, ROOT } from '../stack/paths.ts'
import { freePort } from '../stack/ports.ts'
import { redact } from '../stack/stack.ts'
import { type DatasetSpec, generateDataset, type Metric, vectorArray, row } from './dataset.ts'
import {
  adminConnection,
  type BenchDatabase,
  openEmbeddedDatabase,
  openNativeDatabase,
  resizeItems,
  serverVersions,
} from './database.ts'
import { cachedGroundTruth, recallAt } from './ground-truth.ts'
import { bulkLoad, measureIngest } from './ingest.ts'
import { createLayer, K, LAYER_NAMES, type LayerName, layerSupports } from './layers.ts'
import { addCpu, CpuMeter, type CpuTotals, perRequest } from './cpu.ts'
import { type LoadSample, runLoad, summarize } from './load.ts'
import { processMemory } from './memory.ts'
import {
  type BenchResults,
  computeTargets,
  markdownReport,
  type SearchCell,
  writeResults,
} from './report.ts'

const CACHE_DIR = path.join(ROOT, 'bench', '.cache')
const RESULTS_DIR = path.join(ROOT, 'bench', 'results')

const { values: args } = parseArgs({
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

if (args.help) {
  console.log(`npm run bench -- [options]   (see bench/README.md)

  --quick               small and short: 2,000 x 64, ef 10/40, 1 and 4 clients (CI)
  --native              native PostgreSQL from scripts/install-postgres.sh (root), or MATCHBOX_PG_URL
  --db-url <url>        another PostgreSQL server with pgvector (database matchbox_bench is recreated)
  --count N --dimensions N --metric cosine|l2|ip --clusters N --spread X --queries N --seed N
  --ef 10,20,…  --concurrency 1,4,16  --seconds S (per cell)  --rounds N (slices per cell)
  --max-requests N  --warmup N  --layers ${LAYER_NAMES.join(',')}
  --pool N              connections of each SQL layer and of the functions (default 4; PGlite 1)
  --ingest-rows N (0: skip)  --batches 100,500,1000  --default-ef N (where targets are read)
  --out <dir>           where results go (default bench/results; bench/.cache/results in quick mode)`)
  process.exit(0)
}

const quick = args.quick
const tierNative = args.native || Boolean(args['db-url'])
const metric = parseMetric(args.metric ?? 'cosine')
const count = int(args.count, quick ? 2000 : tierNative ? 100_000 : 20_000)
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
// The grid of the issue, and the default the targets are read at.
const efSearch = [
  ...new Set([...list(args.ef, quick ? [10, 40] : [10, 20, 40, 80, 160, 320]), defaultEfSearch]),
].sort((a, b) => a - b)
const concurrency = list(args.concurrency, quick ? [1, 4] : [1, 4, 16])
const cellSeconds = Number(args.seconds ?? (quick ? 0.5 : 4))
const rounds = Math.max(1, int(args.rounds, quick ? 1 : 4))
const maxRequests = int(args['max-requests'], 20_000)
const warmupRequests = int(args.warmup, quick ? 10 : 50)
const ingestRows = Math.min(
  count,
  int(args['ingest-rows'], quick ? 1000 : tierNative ? 10_000 : 5000),
)
const batches = list(args.batches, quick ? [100, 1000] : [100, 500, 1000])
// One connection budget for every layer: the SQL layers get as many connections as the
// functions' pool (MATCHBOX_DB_POOL_SIZE), so that no layer wins by running more backends.
// Native: 4, two per core of these machines: more backends than that make the database spend
// its CPU on contention (bench/README.md, "Pool size"); the functions' own default is 10.
// PGlite: 1, as `npm start` gives the functions there (it runs one statement at a time).
const poolSize = int(args.pool, tierNative ? 4 : 1)
const requestedLayers = (args.layers?.split(',') ?? [...LAYER_NAMES]) as LayerName[]
for (const name of requestedLayers) {
  if (!LAYER_NAMES.includes(name)) fail(`unknown layer ${name}: use ${LAYER_NAMES.join(', ')}`)
}
const layers = requestedLayers.filter((name) =>
  layerSupports(name, metric, tierNative ? 'native' : 'pglite'),
)
const needsFunctions = layers.includes('function') || layers.includes('sdk') || ingestRows > 0

function log(line: string): void {
  console.log(line)
}

async function main(): Promise<void> {
  const started = new Date()
  const tierLabel = tierNative ? 'native PostgreSQL' : 'embedded PGlite'
  log(`Matchbox bench, ${quick ? 'quick' : 'full'} mode, ${tierLabel}`)
  if (metric !== 'cosine') {
    log(
      `--metric ${metric}: match_items and the functions search by cosine distance only, so only the raw SQL layers run`,
    )
  }
  if (!tierNative)
    log('PGlite: the bare SQL layers are skipped (it ignores per-connection settings)')

  log(
    `dataset: ${spec.count} x ${spec.dimensions} ${spec.metric}, ${spec.clusters} clusters, ${spec.queries} queries, seed ${spec.seed}`,
  )
  const dataset = generateDataset(spec)
  const truth = cachedGroundTruth(dataset, K, CACHE_DIR, log)
  if (!truth.cached) log(`  exact top-${K} computed in ${(truth.ms / 1000).toFixed(1)} s`)
  // Each query and its exact answer made once, not on every request.
  const queries = Array.from({ length: spec.queries }, (_, i) =>
    vectorArray(row(dataset.queries, spec.dimensions, i)),
  )
  const exact = queries.map((_, q) => truth.ids.subarray(q * K, (q + 1) * K))

  let database: BenchDatabase | undefined
  let functions: FunctionsServer | undefined
  let adminSql: postgres.Sql | undefined
  try {
    process.once('exit', () => {
      // Last resort after a crash: no server may outlive the benchmark.
      functions?.process.kill('SIGKILL')
      database?.process?.kill('SIGKILL')
    })
    database = tierNative
      ? await openNativeDatabase(args['db-url'] ?? (await nativeServerUrl()))
      : await openEmbeddedDatabase()
    log(`database: ${redact(database.url)}, migrated`)
    const sql = (adminSql = adminConnection(database.url))
    if (database.tier === 'pglite') await sql`set maintenance_work_mem = '512MB'`
    await resizeItems(sql, spec.dimensions)
    const versions = await serverVersions(sql)

    const keys = await resolveKeys()
    const apiPort = await freePort()
    const apiUrl = `http://127.0.0.1:${apiPort}`
    if (needsFunctions) {
      // Started after the resize, so that the functions read the new dimension.
      const functionLogs: string[] = []
      functions = await startFunctionsServer({
        port: apiPort,
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
          MATCHBOX_DB_POOL_SIZE: String(poolSize),
        },
      })
      log(`functions: ${apiUrl} (pool of ${poolSize} connections)`)
    }

    const ingest =
      ingestRows > 0
        ? (log(`ingest: ${ingestRows} rows into the empty indexed table, each way`),
          await measureIngest({
            sql,
            tier: database.tier,
            dataset,
            rows: ingestRows,
            batches,
            apiUrl,
            serviceRoleKey: keys.serviceRoleKey,
            log,
          }))
        : []
    log('bulk load:')
    const load = await bulkLoad(sql, database.tier, dataset, log)

    const context = {
      dbUrl: database.url,
      apiUrl,
      anonKey: keys.anonKey,
      metric,
      poolSize,
    }
    const searchLayers = layers.map((name) => createLayer(name, context))
    const meter = new CpuMeter(sql, functions?.process.pid, database.process?.pid)
    const cells: SearchCell[] = []
    try {
      log(
        `search: ${cellSeconds} s or ${maxRequests} requests per cell, in ${rounds} slice(s) interleaved across layers`,
      )
      for (const ef of efSearch) {
        for (const clients of concurrency) {
          const samples = new Map<LayerName, LoadSample[]>()
          const cpu = new Map<LayerName, CpuTotals>()
          for (let round = 0; round < rounds; round++) {
            for (const layer of searchLayers) {
              const earlier = samples.get(layer.name) ?? []
              const sample = await runLoad({
                concurrency: clients,
                durationMs: (cellSeconds * 1000) / rounds,
                maxRequests: Math.ceil(maxRequests / rounds),
                // In full before the first slice; a few after the other layers' slices.
                warmupRequests:
                  round === 0 ? warmupRequests : Math.min(warmupRequests, 2 * clients),
                firstIndex: earlier.at(-1)?.nextIndex ?? 0,
                onMeasureStart: () => meter.start(),
                request: async (index) => {
                  const q = index % queries.length
                  return recallAt(await layer.search(queries[q]!, ef), exact[q]!, K)
                },
              })
              samples.set(layer.name, [...earlier, sample])
              cpu.set(layer.name, addCpu(cpu.get(layer.name), await meter.stop()))
            }
          }
          for (const layer of searchLayers) {
            const result = summarize(samples.get(layer.name)!)
            const cell: SearchCell = {
              layer: layer.name,
              efSearch: ef,
              concurrency: clients,
              requests: result.requests,
              errors: result.errors,
              ...(result.firstError ? { firstError: result.firstError } : {}),
              qps: result.qps,
              p50: result.p50,
              p95: result.p95,
              p99: result.p99,
              mean: result.mean,
              recall: result.score,
              cpu: perRequest(cpu.get(layer.name)!, result.requests),
            }
            cells.push(cell)
            log(
              `  ${layer.name.padEnd(12)} ef ${String(ef).padStart(3)}  c ${String(clients).padStart(2)}: ` +
                `${String(Math.round(cell.qps)).padStart(5)} QPS  p50 ${cell.p50.toFixed(2)} p95 ${cell.p95.toFixed(2)} p99 ${cell.p99.toFixed(2)} ms  ` +
                `recall ${cell.recall.toFixed(3)}  cpu ms/req ${cell.cpu.client.toFixed(2)}/${cell.cpu.functions.toFixed(2)}/${cell.cpu.database.toFixed(2)}${cell.errors ? `  ${cell.errors} errors: ${cell.firstError}` : ''}`,
            )
          }
        }
      }
    } finally {
      await Promise.all(searchLayers.map((layer) => layer.close()))
    }

    const partial: Omit<BenchResults, 'targets'> = {
      version: 1,
      date: started.toISOString(),
      mode: quick ? 'quick' : 'full',
      tier: database.tier,
      command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.versions.node,
        deno: denoVersion(),
        postgres: versions.postgres,
        pgvector: versions.pgvector,
      },
      dataset: spec,
      groundTruth: { k: K, cached: truth.cached, computeMs: truth.ms },
      settings: {
        efSearch,
        concurrency,
        cellSeconds,
        rounds,
        maxRequestsPerCell: maxRequests,
        warmupRequests,
        poolSize,
        defaultEfSearch,
        ingestRows,
      },
      layers: searchLayers.map((layer) => ({ name: layer.name, description: layer.description })),
      search: cells,
      ingest,
      bulkLoad: load,
      memory: {
        ...(functions ? { functions: processMemory(functions.process.pid) } : {}),
        ...(database.process ? { database: processMemory(database.process.pid) } : {}),
      },
    }
    const results: BenchResults = { ...partial, targets: computeTargets(partial) }
    const dir = args.out ?? (quick ? path.join(CACHE_DIR, 'results') : RESULTS_DIR)
    const name = `${started.toISOString().slice(0, 10)}-${database.tier}-${spec.count}x${spec.dimensions}${metric === 'cosine' ? '' : `-${metric}`}${quick ? '-quick' : ''}`
    const files = writeResults(dir, name, results)
    log('')
    log(markdownReport(results))
    log(`written: ${files.map((file) => path.relative(ROOT, file)).join(', ')}`)
    const failed = cells.filter((c) => c.errors > 0)
    if (failed.length) {
      console.error(`bench: ${failed.length} cells had failed requests (see above)`)
      process.exitCode = 1
    }
  } finally {
    await adminSql?.end()
    await functions?.stop()
    await database?.stop()
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

function parseMetric(value: string): Metric {
  if (value === 'cosine' || value === 'l2' || value === 'ip') return value
  return fail(`--metric must be cosine, l2 or ip, not ${value}`)
}

function int(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) fail(`expected a whole number, not ${value}`)
  return number
}

function list(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback
  return value.split(',').map((item) => int(item.trim(), 0))
}

function fail(message: string): never {
  console.error(`bench: ${message}`)
  process.exit(1)
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
