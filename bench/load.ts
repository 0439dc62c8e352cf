/**
 * The load runner: `concurrency` workers send requests back to back until a time or request
 * budget runs out, and every request's latency is kept, so that QPS and the percentiles come
 * from the same requests. A cell may run as several slices, interleaved with other layers'
 * slices, so that a passing disturbance on a shared machine hits every layer alike.
 */

/** What one slice of a cell runs. */
export interface LoadOptions {
  concurrency: number
  /** Stop starting requests after this long (the budget that usually ends a slice). */
  durationMs: number
  /** …or after this many requests, whichever comes first. */
  maxRequests: number
  /** Requests sent, unmeasured, before the clock starts (connections, JIT, caches). */
  warmupRequests: number
  /** The index of the first measured request (slices of a cell go on where the last stopped). */
  firstIndex?: number
  /**
   * One request: `index` counts requests across all workers (use it to pick the query).
   * Resolves to a score (e.g. the answer's recall); rejects on failure.
   */
  request(index: number): Promise<number>
  /** Called once the warm-up is over, just before the clock starts. */
  onMeasureStart?(): Promise<void>
}

/** What one slice measured: every latency, unsorted. */
export interface LoadSample {
  latencies: number[]
  scoreSum: number
  errors: number
  firstError?: string
  elapsedMs: number
  /** The index the next slice starts at. */
  nextIndex: number
}

/** What a cell measured, over all its slices. */
export interface LoadResult {
  requests: number
  errors: number
  /** The first error's message, if any request failed. */
  firstError?: string
  elapsedMs: number
  qps: number
  /** Latency percentiles and mean, in milliseconds, over successful requests. */
  p50: number
  p95: number
  p99: number
  mean: number
  /** Mean score of the successful requests (recall@k for searches). */
  score: number
}

/**
 * Runs one slice of a cell: `concurrency` workers send requests back to back until the time
 * or request budget runs out.
 *
 * @example
 * const sample = await runLoad({ concurrency: 4, durationMs: 1000, maxRequests: 10_000,
 *   warmupRequests: 50, request: async (i) => search(queries[i % queries.length]) })
 * summarize([sample]).qps
 */
export async function runLoad(options: LoadOptions): Promise<LoadSample> {
  const { concurrency, request } = options
  let warm = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (warm < options.warmupRequests) await request(warm++).catch(() => 0)
    }),
  )

  await options.onMeasureStart?.()
  const latencies: number[] = []
  let scoreSum = 0
  let errors = 0
  let firstError: string | undefined
  const first = options.firstIndex ?? 0
  let index = first
  const started = performance.now()
  const deadline = started + options.durationMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (index - first < options.maxRequests) {
        // One clock reading per request: the deadline's and the latency's start.
        const sent = performance.now()
        if (sent >= deadline) break
        const current = index++
        try {
          const score = await request(current)
          latencies.push(performance.now() - sent)
          scoreSum += score
        } catch (error) {
          errors++
          firstError ??= error instanceof Error ? error.message : String(error)
        }
      }
    }),
  )
  return {
    latencies,
    scoreSum,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs: performance.now() - started,
    nextIndex: index,
  }
}

/**
 * A cell's figures from its slices: QPS over their summed time, percentiles over all their
 * latencies.
 */
export function summarize(samples: readonly LoadSample[]): LoadResult {
  const latencies = samples.flatMap((sample) => sample.latencies)
  const elapsedMs = samples.reduce((sum, sample) => sum + sample.elapsedMs, 0)
  const scoreSum = samples.reduce((sum, sample) => sum + sample.scoreSum, 0)
  const errors = samples.reduce((sum, sample) => sum + sample.errors, 0)
  const firstError = samples.find((sample) => sample.firstError !== undefined)?.firstError
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs,
    qps: elapsedMs > 0 ? latencies.length / (elapsedMs / 1000) : NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : NaN,
    score: latencies.length ? scoreSum / latencies.length : NaN,
  }
}

/**
 * The `p`-th percentile of ascending `sorted` values by the nearest-rank method: the
 * smallest value that at least `p` percent of the values are less than or equal to.
 *
 * @example
 * percentile(Float64Array.of(1, 2, 3, 4), 50) // 2
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}
