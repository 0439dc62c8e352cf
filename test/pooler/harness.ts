/**
 * What the pooler and replica tests share: a stack on servers of their own with the
 * environment its functions get, a POST that never throws, a load of concurrent clients, and
 * percentiles.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../../stack/ports.ts'
import { type Stack, type StackOptions, startStack } from '../../stack/stack.ts'

/** A stack and what it logged. */
export type TestStack = Stack & { logs: string[] }

/**
 * A stack on `options.dbUrl` (migrated), with `env` set for its functions while it starts.
 */
export async function stackWith(
  options: Pick<StackOptions, 'dbUrl' | 'functionsDbUrl' | 'readUrls'>,
  env: Record<string, string> = {},
): Promise<TestStack> {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  const logs: string[] = []
  const dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-scale-'))
  try {
    const stack = await startStack({
      ...options,
      dataDir,
      apiPort: await freePort(),
      dbPort: await freePort(),
      playgroundPort: await freePort(),
      log: (line) => {
        logs.push(line)
        if (process.env.MATCHBOX_TEST_LOGS) console.log(line)
      },
    })
    const stop = stack.stop
    return {
      ...stack,
      logs,
      stop: async () => {
        await stop()
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  } finally {
    process.env = saved
  }
}

/** One answer: status 0 when the request got none. */
export interface Answer {
  status: number
  // deno-lint-ignore no-explicit-any -- checked field by field by the tests
  body: any
  headers: Headers
  ms: number
}

/** A POST to a function with the service key unless `key` says otherwise; never throws. */
export async function post(
  stack: Stack,
  name: string,
  body: unknown,
  options: { key?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now()
  try {
    const response = await fetch(`${stack.apiUrl}/functions/v1/${name}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.key ?? stack.serviceRoleKey}`,
        ...options.headers,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    })
    const text = await response.text()
    return {
      status: response.status,
      body: text ? JSON.parse(text) : null,
      headers: response.headers,
      ms: performance.now() - started,
    }
  } catch (error) {
    return {
      status: 0,
      body: { error: String(error) },
      headers: new Headers(),
      ms: performance.now() - started,
    }
  }
}

/** `p` (0..1) of the values, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/**
 * Runs `request` from `clients` concurrent loops for `ms`, and answers each status's count,
 * the latencies of the 2xx answers and the completed requests per second.
 */
export async function load(
  clients: number,
  ms: number,
  request: (client: number, i: number) => Promise<Answer>,
): Promise<{ statuses: Record<string, number>; latencies: number[]; perSecond: number }> {
  const statuses: Record<string, number> = {}
  const latencies: number[] = []
  const until = performance.now() + ms
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < until; i++) {
        const answer = await request(client, i)
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
        if (answer.status >= 200 && answer.status < 300) latencies.push(answer.ms)
      }
    }),
  )
  const total = Object.values(statuses).reduce((a, b) => a + b, 0)
  return { statuses, latencies, perSecond: total / ((performance.now() - started) / 1000) }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
