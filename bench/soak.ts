/**
 * `npm run soak [-- --seconds 20 --clients 8 --overload-clients 256 --native]`: a bounded load
 * test on loopback, mixed inserts and searches through the functions.
 *
 * Two phases against one stack: nominal load (must see no 5xx at all), then overload (many
 * more clients than the gateway admits: it must shed with 503 and keep latency and memory
 * bounded, not collapse). Prints throughput, p50/p99 and answers by class for each, and the
 * functions process's memory; exits 1 if a phase breaks its promise. `--quick` for CI.
 */
import { parseArgs } from 'node:util'
import type { Stack } from '../stack/stack.ts'
import { percentile } from './load.ts'
import { processMemory } from './memory.ts'
import { startThrowawayStack } from './throwaway-stack.ts'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '8' },
    'overload-clients': { type: 'string', default: '256' },
    native: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
})
const SECONDS = args.quick ? 3 : Number(args.seconds)
const CLIENTS = Number(args.clients)
const OVERLOAD_CLIENTS = args.quick ? 128 : Number(args['overload-clients'])
// Small limits, so that overload is reached on any machine; both are the gateway's settings.
const LIMITS = {
  MATCHBOX_MAX_CONCURRENT: '16',
  MATCHBOX_MAX_QUEUED: '64',
  MATCHBOX_REQUEST_TIMEOUT_MS: '5000',
}

interface Phase {
  name: string
  requests: number
  latencies: number[]
  classes: Map<string, number>
  seconds: number
}

/** The functions process's resident memory, in MiB. */
function rssMiB(pid: number | undefined): number {
  return processMemory(pid)?.rssMb ?? Number.NaN
}

/** Runs `clients` loops of requests for `seconds`: 1 insert to 4 searches. */
async function phase(stack: Stack, name: string, clients: number, seconds: number): Promise<Phase> {
  const result: Phase = { name, requests: 0, latencies: [], classes: new Map(), seconds }
  const end = Date.now() + seconds * 1000
  const count = (key: string) => result.classes.set(key, (result.classes.get(key) ?? 0) + 1)
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; Date.now() < end; i++) {
        const insert = i % 5 === 0
        const started = performance.now()
        try {
          const response = await fetch(
            `${stack.apiUrl}/functions/v1/${insert ? 'items' : 'match-items'}`,
            {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${insert ? stack.serviceRoleKey : stack.anonKey}`,
              },
              body: JSON.stringify(
                insert
                  ? { items: [{ embedding: [client + 1, i + 1, 1] }] }
                  : { embedding: [1 + (i % 7), 2, 3], count: 10 },
              ),
              signal: AbortSignal.timeout(30_000),
            },
          )
          const body = (await response.json()) as { error?: { code: string } }
          count(
            response.status < 300 ? '2xx' : `${response.status} ${body.error?.code ?? ''}`.trim(),
          )
          if (response.status === 503) await new Promise((resolve) => setTimeout(resolve, 50))
        } catch (error) {
          count(`network ${(error as Error).name}`)
        }
        result.latencies.push(performance.now() - started)
        result.requests++
      }
    }),
  )
  result.latencies.sort((a, b) => a - b)
  return result
}

function report(result: Phase, memory: string): void {
  const classes = [...result.classes]
    .sort()
    .map(([key, n]) => `${key}: ${n}`)
    .join(', ')
  console.log(
    `| ${result.name} | ${(result.requests / result.seconds).toFixed(0)} | ${percentile(result.latencies, 50).toFixed(1)} | ${percentile(result.latencies, 99).toFixed(1)} | ${classes} | ${memory} |`,
  )
}

async function main(): Promise<number> {
  Object.assign(process.env, LIMITS)
  const stack = await startThrowawayStack({
    name: 'soak',
    native: args.native,
    show: /error|exited/i,
  })
  try {
    const pid = stack.functions.process.pid
    console.log(
      `soak on ${args.native ? 'native PostgreSQL' : 'PGlite'}: ${SECONDS} s a phase; gateway limits ${JSON.stringify(LIMITS)}`,
    )
    console.log(
      '| phase | req/s | p50 ms | p99 ms | answers | functions RSS MiB (before → after) |',
    )
    console.log('| --- | ---: | ---: | ---: | --- | --- |')
    const before = rssMiB(pid)
    const nominal = await phase(stack, `nominal, ${CLIENTS} clients`, CLIENTS, SECONDS)
    const afterNominal = rssMiB(pid)
    report(nominal, `${before.toFixed(0)} → ${afterNominal.toFixed(0)}`)
    const overload = await phase(
      stack,
      `overload, ${OVERLOAD_CLIENTS} clients`,
      OVERLOAD_CLIENTS,
      SECONDS,
    )
    const afterOverload = rssMiB(pid)
    report(overload, `${afterNominal.toFixed(0)} → ${afterOverload.toFixed(0)}`)

    const failures: string[] = []
    const serverErrors = (result: Phase, allowed: RegExp) =>
      [...result.classes.keys()].filter((key) => /^(5\d\d|network)/.test(key) && !allowed.test(key))
    const nominalErrors = serverErrors(nominal, /^$/)
    if (nominalErrors.length) failures.push(`nominal load answered ${nominalErrors.join(', ')}`)
    const overloadErrors = serverErrors(overload, /^503 overloaded$/)
    if (overloadErrors.length)
      failures.push(
        `overload answered ${overloadErrors.join(', ')} (only 503 overloaded is allowed)`,
      )
    if (!overload.classes.get('2xx')) failures.push('overload served nothing')
    const timeout = Number(LIMITS.MATCHBOX_REQUEST_TIMEOUT_MS)
    if (percentile(overload.latencies, 99) > timeout + 1000)
      failures.push(`overload p99 above the ${timeout} ms deadline`)
    if (stack.functions.restarts > 0) failures.push('the functions process restarted')
    for (const failure of failures) console.error(`soak: ${failure}`)
    console.log(
      failures.length
        ? 'soak: FAILED'
        : 'soak: passed (no 5xx at nominal load; overload shed with 503, bounded)',
    )
    return failures.length ? 1 : 0
  } finally {
    await stack.stop()
  }
}

process.exit(await main())
