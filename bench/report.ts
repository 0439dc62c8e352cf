/**
 * The benchmark's results: the JSON record, the Markdown tables, the targets the issue sets
 * (as ratios within one run), and the chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type ChartPanel, recallQpsChart } from './chart.ts'
import type { CpuPerRequest } from './cpu.ts'
import type { DatasetSpec } from './dataset.ts'
import type { Tier } from './database.ts'
import type { BulkLoad, IngestResult } from './ingest.ts'
import type { LayerName } from './layers.ts'

/** One (layer, ef_search, concurrency) cell of the search benchmark. */
export interface SearchCell {
  layer: LayerName
  efSearch: number
  concurrency: number
  /** Queries per request of a batch layer: then `qps` and `cpu` count queries, latency requests. */
  batch?: number
  requests: number
  errors: number
  firstError?: string
  qps: number
  p50: number
  p95: number
  p99: number
  mean: number
  recall: number
  /** CPU milliseconds per request, by process. */
  cpu: CpuPerRequest
}

/** Database round trips and statements of one request through a layer (bench/round-trips.ts). */
export interface RoundTripCount {
  layer: LayerName
  /** Requests counted, one after another, at the default `ef_search`. */
  requests: number
  roundTrips: number
  statements: number
}

/** Everything one run measured, as written to bench/results/<name>.json. */
export interface BenchResults {
  version: 2
  date: string
  mode: 'quick' | 'full'
  tier: Tier
  command: string
  machine: {
    cpus: number
    cpuModel: string
    memoryGb: number
    node: string
    deno: string
    postgres: string
    pgvector: string
  }
  /** `synthetic`, `light` or `fashion-mnist` (bench/options.ts). */
  datasetName: string
  dataset: DatasetSpec
  groundTruth: { k: number; cached: boolean; computeMs: number }
  settings: {
    efSearch: number[]
    concurrency: number[]
    cellSeconds: number
    /** Slices per cell, interleaved across layers. */
    rounds: number
    maxRequestsPerCell: number
    warmupRequests: number
    /** Connections of each SQL layer's pool and of the functions' pool. */
    poolSize: number
    defaultEfSearch: number
    ingestRows: number
  }
  layers: { name: LayerName; description: string }[]
  search: SearchCell[]
  ingest: IngestResult[]
  bulkLoad?: BulkLoad
  /** The same rows into the `vectors` layer's collection, and its index build. */
  collectionLoad?: { loadMs: number; indexBuildMs: number }
  roundTrips: RoundTripCount[]
  memory: {
    functions?: { peakMb: number; rssMb: number }
    database?: { peakMb: number; rssMb: number }
  }
  targets: Target[]
}

/** One of the targets, as measured in this run. */
export interface Target {
  name: string
  goal: string
  measured: string
  met: boolean | null
}

/**
 * The targets of issues 4 and 12, computed from one run's cells (ratios, never absolute
 * numbers): those whose cells the run has.
 */
export function computeTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  return [...firstTargets(results), ...hopTargets(results)]
}

/** Issue 4's targets: the SDK against raw SQL at the default ef_search, ingest, recall. */
function firstTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const ef = results.settings.defaultEfSearch
  const cell = (layer: LayerName, concurrency: number) =>
    findCell(results.search, layer, ef, concurrency)
  const maxConcurrency = Math.max(...results.settings.concurrency)
  const targets: Target[] = []
  const sdkHigh = cell('sdk', maxConcurrency)
  const sqlHigh = cell('sql', maxConcurrency)
  if (sdkHigh && sqlHigh) {
    const ratio = sdkHigh.qps / sqlHigh.qps
    targets.push({
      name: `SDK QPS / raw SQL QPS, ${maxConcurrency} clients, ef_search ${ef}`,
      goal: '>= 0.7',
      measured: `${ratio.toFixed(2)} (${Math.round(sdkHigh.qps)} / ${Math.round(sqlHigh.qps)}; recall ${sdkHigh.recall.toFixed(3)} vs ${sqlHigh.recall.toFixed(3)})`,
      met: ratio >= 0.7,
    })
  }
  const sdkOne = cell('sdk', 1)
  const sqlOne = cell('sql', 1)
  if (sdkOne && sqlOne) {
    const added = sdkOne.p50 - sqlOne.p50
    targets.push({
      name: `added p50 latency of the SDK over raw SQL, 1 client, ef_search ${ef}`,
      goal: '<= 2 ms',
      measured: `${added.toFixed(2)} ms (${sdkOne.p50.toFixed(2)} - ${sqlOne.p50.toFixed(2)})`,
      met: added <= 2,
    })
  }
  const copy = results.ingest.find((r) => r.method === 'copy' && r.indexed)
  const largest = Math.max(0, ...results.ingest.map((r) => r.batch ?? 0))
  const viaFunction = results.ingest.find((r) => r.method === 'function' && r.batch === largest)
  if (copy && viaFunction) {
    const ratio = viaFunction.rowsPerSecond / copy.rowsPerSecond
    targets.push({
      name: `insert through the function (batches of ${largest}) / COPY, rows/s, indexed table`,
      goal: '>= 0.5',
      measured: `${ratio.toFixed(2)} (${Math.round(viaFunction.rowsPerSecond)} / ${Math.round(copy.rowsPerSecond)})`,
      met: ratio >= 0.5,
    })
  }
  const recall = sdkOne ?? sqlOne
  if (recall) {
    // The default dataset: the synthetic 100,000 x 384 (`light` reads it at ef_search 40).
    const isDefault =
      results.datasetName === 'synthetic' &&
      results.dataset.count === 100_000 &&
      results.dataset.dimensions === 384
    targets.push({
      name: `recall@10 at the default ef_search (${ef})${isDefault ? '' : ' (not the default dataset)'}`,
      goal: '>= 0.95',
      measured: recall.recall.toFixed(3),
      met: isDefault ? recall.recall >= 0.95 : null,
    })
  }
  return targets
}

/**
 * Issue 12's targets: the HTTP hop against its limit (the minimal server) and against raw
 * SQL, the latency each function adds, and recall on real data.
 */
function hopTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const { settings } = results
  const maxConcurrency = Math.max(...settings.concurrency)
  const ef = settings.defaultEfSearch
  const data = results.datasetName
  const targets: Target[] = []
  const ratio = (
    name: string,
    goal: number | null,
    over: LayerName,
    under: LayerName,
    efSearch: number,
  ) => {
    const a = findCell(results.search, over, efSearch, maxConcurrency)
    const b = findCell(results.search, under, efSearch, maxConcurrency)
    if (!a || !b) return
    const value = a.qps / b.qps
    targets.push({
      name: `${name}, ${data}, ${maxConcurrency} clients, ef_search ${efSearch}`,
      goal: goal === null ? 'none: the limit' : `>= ${goal}`,
      measured: `${value.toFixed(2)} (${Math.round(a.qps)} / ${Math.round(b.qps)})`,
      met: goal === null ? null : value >= goal,
    })
  }
  ratio('minimal server QPS / raw SQL QPS', null, 'minimal', 'sql', ef)
  ratio('vectors query QPS / minimal server QPS', 0.95, 'vectors', 'minimal', ef)
  ratio('batches of 100, queries/s / raw SQL QPS', 0.9, 'vectors-batch100', 'sql', ef)
  if (settings.efSearch.includes(100)) {
    ratio('vectors query QPS / raw SQL QPS', 0.75, 'vectors', 'sql', 100)
  }
  const sqlOne = findCell(results.search, 'sql', ef, 1)
  for (const [layer, goal] of [
    ['function', 1],
    ['vectors', 1.5],
  ] as const) {
    const one = findCell(results.search, layer, ef, 1)
    if (!one || !sqlOne) continue
    const added = one.p50 - sqlOne.p50
    targets.push({
      name: `added p50 latency of ${layer === 'function' ? 'match-items' : 'the vectors query'} over raw SQL, ${data}, 1 client, ef_search ${ef}`,
      goal: `<= ${goal.toFixed(1)} ms`,
      measured: `${added.toFixed(2)} ms (${one.p50.toFixed(2)} - ${sqlOne.p50.toFixed(2)})`,
      met: added <= goal,
    })
  }
  // 40: the vectors function's default ef_search (`Math.max(40, topK)`).
  const recall = results.search.find(
    (c) => c.layer === 'vectors' && c.efSearch === 40 && c.concurrency === 1,
  )
  if (recall && results.dataset.source === 'fashion-mnist') {
    targets.push({
      name: 'recall@10 of the vectors query at its default ef_search (40), fashion-mnist',
      goal: '>= 0.99',
      measured: recall.recall.toFixed(3),
      met: recall.recall >= 0.99,
    })
  }
  return targets
}

/** The Markdown report: the search table, the targets, ingest, index build and memory. */
export function markdownReport(results: BenchResults): string {
  const { machine, settings } = results
  const tierName =
    results.tier === 'native'
      ? `native PostgreSQL ${machine.postgres} + pgvector ${machine.pgvector}`
      : `embedded PGlite (PostgreSQL ${machine.postgres} in WASM) + pgvector ${machine.pgvector}`
  const lines: string[] = [
    `## ${tierName}, ${results.mode} mode`,
    '',
    `${results.date.slice(0, 10)} · ${datasetLine(results)} · ` +
      `HNSW m 16, ef_construction 64 · ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB · ` +
      `Node ${machine.node}, Deno ${machine.deno}`,
    '',
    `\`${results.command}\``,
    '',
    `Each cell: ${settings.cellSeconds} s or ${settings.maxRequestsPerCell} requests in ${settings.rounds} slice(s) interleaved across layers, ` +
      `after ${settings.warmupRequests} unmeasured; latency in ms (p50 / p95 / p99). Every layer has ${settings.poolSize} database connection${settings.poolSize === 1 ? '' : 's'}. ` +
      `Client, gateway, functions and database share the machine's cores.` +
      (results.search.some((c) => c.batch)
        ? " Batch layers: QPS and CPU count queries, latency is a whole request's."
        : ''),
    '',
  ]
  const header = ['layer', 'ef_search', 'recall@10']
  for (const c of settings.concurrency) header.push(`QPS c=${c}`, `p50 / p95 / p99 c=${c}`)
  lines.push(tableRow(header), tableRow(header.map((_, i) => (i < 2 ? '---' : '---:'))))
  const layers = results.layers.map((l) => l.name)
  for (const layer of layers) {
    for (const ef of settings.efSearch) {
      const cells = settings.concurrency.map((c) => findCell(results.search, layer, ef, c))
      if (cells.every((c) => !c)) continue
      const recalls = cells.filter((c): c is SearchCell => !!c).map((c) => c.recall)
      const recall = recalls.reduce((a, b) => a + b, 0) / recalls.length
      const values = [layer, String(ef), recall.toFixed(3)]
      for (const c of cells) {
        if (!c) values.push('', '')
        else {
          const failed = c.errors ? ` (${c.errors} errors)` : ''
          values.push(
            `${Math.round(c.qps)}${failed}`,
            `${fmt(c.p50)} / ${fmt(c.p95)} / ${fmt(c.p99)}`,
          )
        }
      }
      lines.push(tableRow(values))
    }
  }
  lines.push('', 'Layers:', '')
  for (const layer of results.layers) lines.push(`- \`${layer.name}\`: ${layer.description}`)

  const ef = settings.defaultEfSearch
  const profiled = results.search.filter((c) => c.efSearch === ef)
  if (profiled.length) {
    lines.push(
      '',
      `### Where the time goes: CPU ms per request by process (ef_search ${ef})`,
      '',
      'Client: the benchmark process (load driver, postgres.js or fetch and the SDK). Server: ' +
        'the one Deno process of the gateway and the functions, or the minimal server. Database: ' +
        'the backends serving the benchmark (native) or the PGlite process.',
      '',
      tableRow(['layer', 'clients', 'client', 'server', 'database', 'total', 'QPS']),
      tableRow(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    )
    for (const c of profiled) {
      const total = c.cpu.client + c.cpu.functions + c.cpu.database
      lines.push(
        tableRow([
          c.layer,
          String(c.concurrency),
          fmt(c.cpu.client),
          fmt(c.cpu.functions),
          fmt(c.cpu.database),
          fmt(total),
          String(Math.round(c.qps)),
        ]),
      )
    }
  }

  if (results.roundTrips.length) {
    lines.push(
      '',
      `### Database round trips per request (ef_search ${ef})`,
      '',
      `Counted on the wire by a proxy between each layer and the database (bench/round-trips.ts), ` +
        `${results.roundTrips[0]!.requests} requests one after another after a warm-up (a batch layer: as many queries): ` +
        'a round trip is a write made when everything sent before is answered; statements are ReadyForQuery messages.',
      '',
      tableRow(['layer', 'round trips', 'statements']),
      tableRow(['---', '---:', '---:']),
    )
    for (const r of results.roundTrips) {
      lines.push(tableRow([r.layer, r.roundTrips.toFixed(2), r.statements.toFixed(2)]))
    }
  }

  if (results.targets.length) {
    lines.push('', '### Targets (ratios within this run)', '')
    lines.push(
      tableRow(['target', 'goal', 'measured', 'met']),
      tableRow(['---', '---', '---', '---']),
    )
    for (const t of results.targets) {
      lines.push(
        tableRow([t.name, t.goal, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'no']),
      )
    }
  }

  if (results.ingest.length || results.bulkLoad) {
    lines.push('', '### Ingest', '')
    const copy = results.ingest.find((r) => r.method === 'copy' && r.indexed)
    const copyName = results.tier === 'native' ? 'COPY' : 'INSERT … unnest (no COPY on PGlite)'
    lines.push(
      tableRow(['method', 'batch', 'index', 'rows', 'seconds', 'rows/s', '× COPY (indexed)']),
      tableRow(['---', '---:', '---', '---:', '---:', '---:', '---:']),
    )
    const all = [...results.ingest, ...(results.bulkLoad ? [results.bulkLoad.load] : [])]
    for (const r of all) {
      lines.push(
        tableRow([
          r.method === 'copy'
            ? copyName
            : r.method === 'sdk'
              ? 'SDK insertItems'
              : 'function (HTTP)',
          r.batch ? String(r.batch) : '',
          r.indexed ? 'HNSW' : 'none',
          String(r.rows),
          (r.ms / 1000).toFixed(2),
          String(Math.round(r.rowsPerSecond)),
          copy ? (r.rowsPerSecond / copy.rowsPerSecond).toFixed(2) : '',
        ]),
      )
    }
    if (results.bulkLoad) {
      lines.push(
        '',
        `HNSW index build after the bulk load (${results.bulkLoad.load.rows} rows, m 16, ef_construction 64): ` +
          `**${(results.bulkLoad.indexBuildMs / 1000).toFixed(1)} s**.`,
      )
    }
    if (results.collectionLoad) {
      lines.push(
        '',
        `The same rows into the \`vectors\` layer's collection: ${(results.collectionLoad.loadMs / 1000).toFixed(1)} s with no index, ` +
          `then its HNSW index in ${(results.collectionLoad.indexBuildMs / 1000).toFixed(1)} s.`,
      )
    }
  }
  const { functions, database } = results.memory
  if (functions || database) {
    lines.push('', '### Memory (peak resident set size)', '')
    if (functions)
      lines.push(
        `- gateway + functions (one Deno process): ${Math.round(functions.peakMb)} MB peak, ${Math.round(functions.rssMb)} MB at the end`,
      )
    if (database)
      lines.push(
        `- embedded database process (PGlite): ${Math.round(database.peakMb)} MB peak, ${Math.round(database.rssMb)} MB at the end`,
      )
  }
  return lines.join('\n') + '\n'
}

/** The recall-vs-QPS chart of a run: one panel per concurrency, a line per layer. */
function chartOf(results: BenchResults): string {
  const panels: ChartPanel[] = results.settings.concurrency.map((concurrency) => ({
    title: `${concurrency} concurrent client${concurrency === 1 ? '' : 's'}`,
    series: results.layers.map((layer) => ({
      name: layer.name,
      points: results.settings.efSearch.flatMap((ef) => {
        const c = findCell(results.search, layer.name, ef, concurrency)
        return c ? [{ recall: c.recall, qps: c.qps, label: `ef ${ef}` }] : []
      }),
    })),
  }))
  const tier = results.tier === 'native' ? 'native PostgreSQL' : 'embedded PGlite'
  const { count, dimensions, metric, source } = results.dataset
  const data = source ?? (results.datasetName === 'light' ? 'light' : 'synthetic')
  return recallQpsChart(
    `Matchbox recall vs QPS: ${tier}, ${data} ${count.toLocaleString('en-US')} × ${dimensions} ${metric}`,
    panels,
  )
}

/** Writes `<name>.json`, `<name>.md` and `<name>.svg` into `dir`; answers their paths. */
export function writeResults(dir: string, name: string, results: BenchResults): string[] {
  mkdirSync(dir, { recursive: true })
  const files = [
    [`${name}.json`, JSON.stringify(results, null, 2) + '\n'],
    [`${name}.md`, markdownReport(results)],
    [`${name}.svg`, chartOf(results)],
  ] as const
  return files.map(([file, text]) => {
    const target = path.join(dir, file)
    writeFileSync(target, text)
    return target
  })
}

/** The cell of `layer` at `efSearch` and `concurrency`, if it ran. */
function findCell(
  cells: readonly SearchCell[],
  layer: LayerName,
  efSearch: number,
  concurrency: number,
): SearchCell | undefined {
  return cells.find(
    (c) => c.layer === layer && c.efSearch === efSearch && c.concurrency === concurrency,
  )
}

/** What the run searched, in a few words. */
function datasetLine(results: BenchResults): string {
  const { dataset } = results
  const size = `${dataset.count.toLocaleString('en-US')} × ${dataset.dimensions} ${dataset.metric}`
  if (dataset.source === 'fashion-mnist') {
    return `Fashion-MNIST (Debian's dataset-fashion-mnist): ${size}, the first ${dataset.queries} test images as queries`
  }
  return (
    `${results.datasetName === 'light' ? 'light: ' : ''}${size}, ${dataset.clusters} clusters (spread ${dataset.spread}), ` +
    `${dataset.queries} queries, seed ${dataset.seed}`
  )
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

function fmt(ms: number): string {
  if (!Number.isFinite(ms)) return '–'
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms).toString()
}
