/**
 * Deno entry point of the local stack's functions server: loads every function's
 * default-exported `{ fetch }` into this one process and serves them behind the gateway.
 *
 * One process rather than one per function: on a two-core machine every extra process hop
 * costs CPU the searches need. If this process dies, the Node supervisor starts it again.
 * Configured by the Node side through the environment: MATCHBOX_FUNCTIONS (JSON:
 * [{ name, verifyJwt, entrypoint }]), MATCHBOX_JWT_SECRET, MATCHBOX_API_PORT; the functions
 * read SUPABASE_* as on Supabase.
 */
import { MAX_BODY_BYTES } from '../../supabase/functions/_shared/contract.ts'
import { BODY_TIMEOUT_MS, takesForwardedRequests } from '../../supabase/functions/_shared/http.ts'
import { FunctionHost } from './function-host.ts'
import { createGateway, type RoutedFunction } from './router.ts'

interface FunctionSpec {
  name: string
  verifyJwt: boolean
  entrypoint: string
}

// A stray rejection from a library (a database driver whose socket died in a crash, say)
// must not take down every function: log it and serve on. Requests still get their answers
// from their own awaits.
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault()
  console.error('unhandled rejection:', event.reason)
})

const specs = JSON.parse(requireEnv('MATCHBOX_FUNCTIONS')) as FunctionSpec[]
// inline (default): every function's module in this process, the fastest path on two cores.
// worker: each function in a worker isolate of its own, surviving crashes (function-host.ts),
// at a cost measured in bench/README.md.
const isolation = Deno.env.get('MATCHBOX_FUNCTION_ISOLATION') ?? 'inline'
const hosts = new Map<string, FunctionHost>()
const functions: RoutedFunction[] = []
for (const spec of specs) {
  if (isolation === 'inline') {
    const module = await import(new URL(`file://${spec.entrypoint}`).href)
    const handler = module.default?.fetch
    if (typeof handler !== 'function')
      throw new Error(`${spec.entrypoint} must default-export { fetch }`)
    functions.push({
      name: spec.name,
      verifyJwt: spec.verifyJwt,
      fetch: handler,
      // Matchbox's own functions take requests as they came; any other function gets a copy.
      inProcess: takesForwardedRequests(handler),
    })
    continue
  }
  const host = new FunctionHost({
    name: spec.name,
    entrypoint: spec.entrypoint,
    maxBodyBytes: MAX_BODY_BYTES,
    log: (line) => console.error(line),
  })
  await host.start()
  hosts.set(spec.name, host)
  functions.push({
    name: spec.name,
    verifyJwt: spec.verifyJwt,
    fetch: (request) => host.fetch(request),
  })
}

const handler = createGateway({
  functions,
  jwtSecret: requireEnv('MATCHBOX_JWT_SECRET'),
  limits: {
    maxConcurrent: Number(Deno.env.get('MATCHBOX_MAX_CONCURRENT') ?? 64),
    maxQueued: Number(Deno.env.get('MATCHBOX_MAX_QUEUED') ?? 256),
    timeoutMs: Number(Deno.env.get('MATCHBOX_REQUEST_TIMEOUT_MS') ?? 30_000),
  },
  bodyTimeoutMs: positiveMs('MATCHBOX_BODY_TIMEOUT_MS', BODY_TIMEOUT_MS),
  // Fault injection for the crash test: ends a function's worker as a crash would.
  crash:
    Deno.env.get('MATCHBOX_FAULT_INJECTION') === '1'
      ? (name) => hosts.get(name)?.crash()
      : undefined,
})
const server = Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(requireEnv('MATCHBOX_API_PORT')),
    // The Node side waits for this line to know the functions are ready.
    onListen: ({ port }) => console.log(JSON.stringify({ ready: true, port })),
  },
  handler,
)

const shutdown = () => void server.shutdown().finally(() => Deno.exit(0))
for (const signal of ['SIGINT', 'SIGTERM'] as const) Deno.addSignalListener(signal, shutdown)

// Started by the Node supervisor (functions-server.ts), which holds this process's stdin open
// and never writes to it: end of input means the parent is gone (killed, crashed, or a test
// that never stopped it), and a functions server nobody supervises must not keep its port
// and database connections. Requests in flight get a few seconds to finish.
if (Deno.env.get('MATCHBOX_EXIT_WITH_PARENT') === '1') {
  void (async () => {
    for await (const _ of Deno.stdin.readable) {
      // nothing is sent; this only waits for the end
    }
    setTimeout(() => Deno.exit(0), 5000)
    shutdown()
  })()
}

/** A duration in milliseconds from the environment; a bad value stops the start, named. */
function positiveMs(name: string, fallback: number): number {
  const value = Deno.env.get(name)
  if (value === undefined || value === '') return fallback
  const ms = Number(value)
  if (!Number.isFinite(ms) || ms <= 0)
    throw new Error(`${name} must be a positive number of ms, not ${JSON.stringify(value)}`)
  return ms
}

function requireEnv(name: string): string {
  const value = Deno.env.get(name)
  if (!value) throw new Error(`${name} is not set`)
  return value
}
