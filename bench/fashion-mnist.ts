/**
 * Real vectors: Fashion-MNIST (the set ann-benchmarks calls `fashion-mnist-784-euclidean`),
 * from Debian's `dataset-fashion-mnist` package: 60,000 training images of 28 × 28 grey
 * levels as the collection, the test images as queries, compared by l2 distance. Pixels are
 * whole numbers from 0 to 255, so their text form is exact and short.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Dataset, DatasetSpec } from './dataset.ts'

/** Where the Debian package puts the idx files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'

const TRAIN = 'train-images-idx3-ubyte.gz'
const TEST = 't10k-images-idx3-ubyte.gz'
/** idx's magic number for unsigned bytes in 3 dimensions (images × rows × columns). */
const IDX3_UBYTE = 0x00000803

/** An idx3-ubyte file's images, one row of `rows × columns` values per image. */
export interface IdxImages {
  count: number
  dimensions: number
  pixels: Uint8Array
}

/**
 * Reads an idx3-ubyte file (big-endian header: magic, count, rows, columns; then the bytes).
 *
 * @example
 * parseIdxImages(gunzipSync(readFileSync('train-images-idx3-ubyte.gz'))).count // 60000
 */
export function parseIdxImages(bytes: Uint8Array): IdxImages {
  if (bytes.byteLength < 16) throw new Error('not an idx file: shorter than its header')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0)
  if (magic !== IDX3_UBYTE) {
    throw new Error(`not an idx3-ubyte file: magic 0x${magic.toString(16).padStart(8, '0')}`)
  }
  const count = view.getUint32(4)
  const dimensions = view.getUint32(8) * view.getUint32(12)
  if (bytes.byteLength !== 16 + count * dimensions) {
    throw new Error(
      `idx file holds ${bytes.byteLength - 16} bytes of pixels, not ${count} x ${dimensions}`,
    )
  }
  return { count, dimensions, pixels: bytes.subarray(16) }
}

/**
 * Makes sure the package is installed: `apt-get update` and `apt-get install -y
 * dataset-fashion-mnist` when its files are missing (as root; otherwise the message says so).
 */
export function ensureFashionMnist(log: (line: string) => void): void {
  if (existsSync(path.join(FASHION_MNIST_DIR, TRAIN))) return
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${FASHION_MNIST_DIR} is missing: run \`apt-get install -y dataset-fashion-mnist\` as root, or run the benchmark as root`,
    )
  }
  log('installing Debian package dataset-fashion-mnist (apt-get update, apt-get install)…')
  const apt: ExecFileSyncOptions = { stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 }
  execFileSync('apt-get', ['update'], apt)
  execFileSync('apt-get', ['install', '-y', 'dataset-fashion-mnist'], {
    ...apt,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
}

/**
 * The Fashion-MNIST dataset: the first `count` training images (all 60,000 by default) and
 * the first `queries` test images, as l2 vectors of 784 dimensions.
 */
export function fashionMnistDataset(
  options: { count?: number; queries: number },
  log: (line: string) => void,
): Dataset {
  ensureFashionMnist(log)
  const read = (file: string) =>
    parseIdxImages(gunzipSync(readFileSync(path.join(FASHION_MNIST_DIR, file))))
  const train = read(TRAIN)
  const test = read(TEST)
  const count = Math.min(options.count ?? train.count, train.count)
  const queries = Math.min(options.queries, test.count)
  const spec: DatasetSpec = {
    source: 'fashion-mnist',
    count,
    dimensions: train.dimensions,
    metric: 'l2',
    clusters: 0,
    spread: 0,
    queries,
    seed: 0,
  }
  return {
    spec,
    vectors: Float32Array.from(train.pixels.subarray(0, count * train.dimensions)),
    queries: Float32Array.from(test.pixels.subarray(0, queries * test.dimensions)),
  }
}
