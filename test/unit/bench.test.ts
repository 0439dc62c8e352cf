/** The benchmark's pure parts: the seeded data, the exact answer, recall and percentiles. */
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { recallQpsChart } from '../../bench/chart.ts'
import {
  type DatasetSpec,
  generateDataset,
  quantize,
  row,
  seededNormal,
  seededRandom,
  vectorText,
} from '../../bench/dataset.ts'
import { cacheKey, exactNeighbours, recallAt } from '../../bench/ground-truth.ts'
import { percentile } from '../../bench/load.ts'
import { BenchOptionsError, parseBenchOptions } from '../../bench/options.ts'
import { type BenchResults, computeTargets } from '../../bench/report.ts'
import type { LayerName } from '../../bench/layers.ts'
import { parseIdxImages } from '../../bench/fashion-mnist.ts'
import { startCountingProxy } from '../../bench/round-trips.ts'

const SPEC: DatasetSpec = {
  count: 300,
  dimensions: 8,
  metric: 'cosine',
  clusters: 5,
  spread: 1,
  queries: 20,
  seed: 42,
}

describe('seeded data', () => {
  it('draws the same numbers for the same seed, and others for another', () => {
    const a = seededRandom(7)
    const b = seededRandom(7)
    const c = seededRandom(8)
    const first = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(first)
    expect(Array.from({ length: 5 }, c)).not.toEqual(first)
    for (const x of first) expect(x).toBeGreaterThanOrEqual(0)
    for (const x of first) expect(x).toBeLessThan(1)
  })

  it('draws standard normal numbers', () => {
    const normal = seededNormal(1)
    const draws = Array.from({ length: 20_000 }, normal)
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })

  it('generates the same dataset from the same spec', () => {
    const one = generateDataset(SPEC)
    const two = generateDataset(SPEC)
    expect(one.vectors).toEqual(two.vectors)
    expect(one.queries).toEqual(two.queries)
    expect(one.vectors).toHaveLength(SPEC.count * SPEC.dimensions)
    expect(one.queries).toHaveLength(SPEC.queries * SPEC.dimensions)
    expect(generateDataset({ ...SPEC, seed: 43 }).vectors).not.toEqual(one.vectors)
  })

  it('stores 4-decimal values whose text parses back to the same float4s', () => {
    const { vectors, queries } = generateDataset(SPEC)
    const first = row(vectors, SPEC.dimensions, 0)
    const text = vectorText(first)
    expect(text).toMatch(/^\[-?\d+(\.\d{1,4})?(,-?\d+(\.\d{1,4})?)*\]$/)
    const parsed = JSON.parse(text) as number[]
    expect(Float32Array.from(parsed)).toEqual(first)
    for (const value of parsed) expect(quantize(value)).toBe(value)
    // Every stored value, not only the first row's, is the float4 of a 4-decimal number.
    const unquantized = (values: Float32Array) =>
      values.filter((value) => Math.fround(quantize(value)) !== value).length
    expect(unquantized(vectors)).toBe(0)
    expect(unquantized(queries)).toBe(0)
  })
})

describe('exact neighbours', () => {
  for (const metric of ['cosine', 'l2', 'ip'] as const) {
    it(`match a full sort by ${metric} distance`, () => {
      const dataset = generateDataset({ ...SPEC, metric })
      const truth = exactNeighbours(dataset, 10)
      const { dimensions, count } = SPEC
      for (let q = 0; q < SPEC.queries; q++) {
        const query = row(dataset.queries, dimensions, q)
        const distances = Array.from({ length: count }, (_, i) => {
          const v = row(dataset.vectors, dimensions, i)
          let dot = 0
          let qq = 0
          let vv = 0
          for (let d = 0; d < dimensions; d++) {
            dot += query[d]! * v[d]!
            qq += query[d]! ** 2
            vv += v[d]! ** 2
          }
          const distance =
            metric === 'cosine'
              ? 1 - dot / Math.sqrt(qq * vv)
              : metric === 'ip'
                ? -dot
                : qq + vv - 2 * dot
          return { id: i + 1, distance }
        })
        distances.sort((a, b) => a.distance - b.distance || a.id - b.id)
        expect(Array.from(truth.ids.subarray(q * 10, q * 10 + 10))).toEqual(
          distances.slice(0, 10).map((d) => d.id),
        )
      }
    })
  }

  it('caches under a name that changes with every parameter', () => {
    expect(cacheKey(SPEC, 10)).toBe(cacheKey({ ...SPEC }, 10))
    expect(cacheKey(SPEC, 10)).not.toBe(cacheKey({ ...SPEC, spread: 0.5 }, 10))
    expect(cacheKey(SPEC, 10)).not.toBe(cacheKey(SPEC, 20))
    const changed: DatasetSpec = {
      count: 301,
      dimensions: 9,
      metric: 'l2',
      clusters: 6,
      spread: 2,
      queries: 21,
      seed: 43,
    }
    for (const field of Object.keys(SPEC) as (keyof DatasetSpec)[]) {
      expect(cacheKey({ ...SPEC, [field]: changed[field] }, 10), field).not.toBe(cacheKey(SPEC, 10))
    }
    expect(cacheKey(SPEC, 10)).toMatch(/^truth-300x8-cosine-q20-k10-[0-9a-f]{12}\.bin$/)
  })
})

describe('recall', () => {
  it('is the share of the exact top k found in the first k answers', () => {
    const exact = Int32Array.of(1, 2, 3, 4)
    expect(recallAt([1, 2, 3, 4], exact, 4)).toBe(1)
    expect(recallAt([4, 3, 2, 1], exact, 4)).toBe(1)
    expect(recallAt([1, 2, 9, 8], exact, 4)).toBe(0.5)
    expect(recallAt([1, 1, 1, 1], exact, 4)).toBe(0.25)
    expect(recallAt([9, 8, 7, 6, 1], exact, 4)).toBe(0)
    expect(recallAt([], exact, 4)).toBe(0)
  })
})

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 95)).toBe(95)
    expect(percentile(values, 99)).toBe(99)
    expect(percentile(values, 100)).toBe(100)
    expect(percentile(Float64Array.of(1, 2, 3, 4), 50)).toBe(2)
    expect(percentile(Float64Array.of(7), 99)).toBe(7)
    expect(percentile(new Float64Array(0), 50)).toBeNaN()
  })
})

describe('report', () => {
  const cell = (
    layer: LayerName,
    concurrency: number,
    qps: number,
    p50: number,
    efSearch = 40,
    recall = 0.96,
  ) => ({
    layer,
    efSearch,
    concurrency,
    requests: 1000,
    errors: 0,
    qps,
    p50,
    p95: p50 * 2,
    p99: p50 * 3,
    mean: p50,
    recall,
    cpu: { client: 0, functions: 0, database: 0 },
  })

  it('computes the targets as ratios within the run', () => {
    const results = {
      dataset: { ...SPEC, count: 100_000, dimensions: 384 },
      datasetName: 'synthetic',
      settings: { defaultEfSearch: 40, efSearch: [40], concurrency: [1, 16] },
      search: [
        cell('sql', 1, 500, 2),
        cell('sdk', 1, 300, 3.5),
        cell('sql', 16, 1000, 16),
        cell('sdk', 16, 800, 20),
      ],
      ingest: [
        { method: 'function', batch: 1000, indexed: true, rows: 1, ms: 1, rowsPerSecond: 600 },
        { method: 'copy', indexed: true, rows: 1, ms: 1, rowsPerSecond: 1000 },
      ],
    } as unknown as Omit<BenchResults, 'targets'>
    const targets = computeTargets(results)
    expect(targets.map((t) => t.met)).toEqual([true, true, true, true])
    expect(targets[0]!.measured).toMatch(/^0\.80 /)
    expect(targets[1]!.measured).toMatch(/^1\.50 ms/)
    expect(targets[2]!.measured).toMatch(/^0\.60 /)
    expect(targets[3]!.measured).toBe('0.960')
  })

  it('reads the hop against its limit, raw SQL and real data (issue 12)', () => {
    const results = {
      datasetName: 'fashion-mnist',
      dataset: { ...SPEC, source: 'fashion-mnist', count: 60_000, dimensions: 784, metric: 'l2' },
      settings: { defaultEfSearch: 100, efSearch: [40, 100], concurrency: [1, 8] },
      search: [
        cell('sql', 1, 500, 2, 100),
        cell('function', 1, 400, 2.9, 100),
        cell('vectors', 1, 300, 3.6, 100),
        cell('vectors', 1, 300, 3.6, 40, 0.995),
        cell('sql', 8, 1000, 8, 100),
        cell('minimal', 8, 600, 13, 100),
        cell('vectors', 8, 540, 15, 100),
      ],
      ingest: [],
    } as unknown as Omit<BenchResults, 'targets'>
    const targets = computeTargets(results)
    const byName = (part: string) => targets.find((t) => t.name.includes(part))!
    expect(byName('minimal server QPS / raw SQL').measured).toMatch(/^0\.60 \(600 \/ 1000\)/)
    expect(byName('minimal server QPS / raw SQL').met).toBeNull()
    expect(byName('vectors query QPS / minimal').measured).toMatch(/^0\.90 /)
    expect(byName('vectors query QPS / minimal').met).toBe(false)
    expect(byName('vectors query QPS / raw SQL').measured).toMatch(/^0\.54 /)
    expect(byName('vectors query QPS / raw SQL').met).toBe(false)
    expect(byName('latency of match-items').measured).toMatch(/^0\.90 ms/)
    expect(byName('latency of match-items').met).toBe(true)
    expect(byName('latency of the vectors query').measured).toMatch(/^1\.60 ms/)
    expect(byName('latency of the vectors query').met).toBe(false)
    expect(byName('recall@10 of the vectors query').measured).toBe('0.995')
    expect(byName('recall@10 of the vectors query').met).toBe(true)
  })

  it('draws an SVG with a line per layer', () => {
    const svg = recallQpsChart('test', [
      {
        title: '1 client',
        series: [
          {
            name: 'sql',
            points: [
              { recall: 0.9, qps: 100, label: 'ef 10' },
              { recall: 0.99, qps: 50, label: 'ef 40' },
            ],
          },
          { name: 'sdk', points: [{ recall: 0.9, qps: 80, label: 'ef 10' }] },
        ],
      },
    ])
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<polyline/g)).toHaveLength(2)
  })
})

describe('options', () => {
  it('defaults by mode and tier', () => {
    const quick = parseBenchOptions(['--quick'])!
    expect(quick.tier).toBe('pglite')
    expect(quick.spec.count).toBe(2000)
    expect(quick.spec.dimensions).toBe(64)
    expect(quick.concurrency).toEqual([1, 4])
    expect(quick.poolSize).toBe(1)
    expect(quick.layers).not.toContain('sql-bare')
    expect(quick.layers).toContain('vectors-batch10')
    expect(quick.layers).not.toContain('vectors-batch100')
    const native = parseBenchOptions(['--native'])!
    expect(native.tier).toBe('native')
    expect(native.spec.count).toBe(100_000)
    expect(native.poolSize).toBe(4)
    expect(native.layers).toContain('sql-bare')
    expect(parseBenchOptions(['--db-url', 'postgresql://x/y'])!.tier).toBe('native')
    expect(parseBenchOptions(['--help'])).toBeUndefined()
  })

  it('puts the default ef_search in the grid, sorted and once', () => {
    const options = parseBenchOptions(['--ef', '80,10,40', '--default-ef', '40'])!
    expect(options.efSearch).toEqual([10, 40, 80])
    expect(options.defaultEfSearch).toBe(40)
  })

  it('keeps only the layers the metric supports, and caps ingest at the dataset', () => {
    const options = parseBenchOptions(['--native', '--metric', 'l2', '--count', '500'])!
    // match_items is cosine only; the raw query, the minimal server and a collection take l2.
    expect(options.layers).toEqual([
      'sql',
      'sql-bare',
      'sql-iter-off',
      'minimal',
      'vectors',
      'vectors-batch10',
      'vectors-batch100',
    ])
    expect(options.ingestRows).toBe(500)
  })

  it('gives each dataset its grid', () => {
    const light = parseBenchOptions(['--native', '--dataset', 'light'])!
    expect(light.efSearch).toEqual([40])
    expect(light.defaultEfSearch).toBe(40)
    expect(light.concurrency).toEqual([1, 16])
    expect(light.spec).toEqual(parseBenchOptions(['--native'])!.spec)
    const fashion = parseBenchOptions(['--native', '--dataset', 'fashion-mnist'])!
    expect(fashion.spec).toMatchObject({ source: 'fashion-mnist', count: 60_000, dimensions: 784 })
    expect(fashion.spec.metric).toBe('l2')
    expect(fashion.efSearch).toEqual([40, 100, 200])
    expect(fashion.layers).not.toContain('sdk')
    expect(() => parseBenchOptions(['--dataset', 'fashion-mnist', '--dimensions', '10'])).toThrow(
      /784 dimensions, l2: drop --dimensions/,
    )
    expect(() => parseBenchOptions(['--dataset', 'glove'])).toThrow(
      /--dataset must be synthetic, light, fashion-mnist, not glove/,
    )
  })

  it('refuses what it cannot run, naming the fix', () => {
    expect(() => parseBenchOptions(['--metric', 'hamming'])).toThrow(
      new BenchOptionsError('--metric must be cosine, l2 or ip, not hamming'),
    )
    expect(() => parseBenchOptions(['--layers', 'sql,nope'])).toThrow(/unknown layer nope: use sql/)
    expect(() => parseBenchOptions(['--count', '1.5'])).toThrow(/expected a whole number, not 1.5/)
  })
})

describe('Fashion-MNIST idx files', () => {
  const idx = (magic: number, count: number, rows: number, columns: number, pixels: number[]) => {
    const bytes = new Uint8Array(16 + pixels.length)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, magic)
    view.setUint32(4, count)
    view.setUint32(8, rows)
    view.setUint32(12, columns)
    bytes.set(pixels, 16)
    return bytes
  }

  it('reads images as rows of rows x columns bytes', () => {
    const images = parseIdxImages(idx(0x803, 2, 2, 2, [0, 1, 2, 3, 255, 254, 253, 252]))
    expect(images.count).toBe(2)
    expect(images.dimensions).toBe(4)
    expect(Array.from(images.pixels)).toEqual([0, 1, 2, 3, 255, 254, 253, 252])
  })

  it('refuses what is not an idx3-ubyte file of the size its header says', () => {
    expect(() => parseIdxImages(idx(0x801, 2, 2, 2, []))).toThrow(/not an idx3-ubyte file/)
    expect(() => parseIdxImages(idx(0x803, 2, 2, 2, [1, 2, 3]))).toThrow(/not 2 x 4/)
    expect(() => parseIdxImages(new Uint8Array(3))).toThrow(/shorter than its header/)
  })
})

describe('round trips on the wire', () => {
  const message = (type: string) => Buffer.from([type.charCodeAt(0), 0, 0, 0, 4])
  const READY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49])

  /**
   * A stand-in database: a ReadyForQuery for the startup message and for every Sync; an 'X'
   * (a slow statement) gets a CommandComplete at once and delays the next Sync's answer.
   */
  async function fakeServer() {
    const server = net.createServer((socket) => {
      let started = false
      socket.on('data', (chunk) => {
        let offset = 0
        if (!started) {
          started = true
          offset = chunk.readUInt32BE(0)
          socket.write(READY)
        }
        let slow = false
        while (offset < chunk.length) {
          if (chunk[offset] === 0x58) {
            slow = true
            socket.write(Buffer.from([0x43, 0, 0, 0, 4]))
          } else if (chunk[offset] === 0x53) {
            if (slow) setTimeout(() => socket.write(READY), 100)
            else socket.write(READY)
          }
          offset += 1 + chunk.readUInt32BE(offset + 1)
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { server, port: (server.address() as net.AddressInfo).port }
  }

  it('counts writes made with nothing pending, and every ReadyForQuery as a statement', async () => {
    const { server, port } = await fakeServer()
    const proxy = await startCountingProxy(`postgresql://u:p@127.0.0.1:${port}/db`)
    const socket = net.connect(Number(new URL(proxy.url).port), '127.0.0.1')
    let received = 0
    socket.on('data', (chunk) => {
      for (let offset = 0; offset < chunk.length; offset += 1 + chunk.readUInt32BE(offset + 1)) {
        if (chunk[offset] === 0x5a) received++
      }
    })
    const answered = async (total: number) => {
      while (received < total) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
      const startup = Buffer.alloc(8)
      startup.writeUInt32BE(8, 0)
      startup.writeUInt32BE(196608, 4)
      socket.write(startup)
      await answered(1)
      proxy.reset()
      // Three statements pipelined in one write: one round trip.
      socket.write(Buffer.concat([message('S'), message('S'), message('S')]))
      await answered(4)
      // One more after their answers: a second.
      socket.write(message('S'))
      await answered(5)
      // A statement split over two writes, the first with no Sync: still one.
      socket.write(message('P'))
      await new Promise((resolve) => setTimeout(resolve, 20))
      socket.write(message('S'))
      await answered(6)
      // A slow statement's first answer, then the next statement written while it runs: the
      // client did not wait, so one round trip for both.
      socket.write(Buffer.concat([message('X'), message('S')]))
      await new Promise((resolve) => setTimeout(resolve, 20))
      socket.write(message('S'))
      await answered(8)
      expect(proxy.counts()).toEqual({ roundTrips: 4, statements: 7, connections: 0 })
    } finally {
      socket.destroy()
      await proxy.close()
      server.close()
    }
  })
})
