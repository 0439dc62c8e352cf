/**
 * Deno entry point of the local stack's functions server: loads every function's
 * default-exported `{ fetch }` into this one process and serves them behind the gateway.
 *
 * One process rather than one per function: on a two-core machine every extra process hop
 * costs CPU the searches need. Configured by the Node side through the environment:
 * MATCHBOX_FUNCTIONS (JSON: [{ name, verifyJwt, entrypoint }]), MATCHBOX_JWT_SECRET,
 * MATCHBOX_API_PORT; the functions read SUPABASE_* as on Supabase.
 */
import { createGateway, type RoutedFunction } from './router.ts'

interface FunctionSpec {
  name: string
  verifyJwt: boolean
  entrypoint: string
}

const specs = JSON.parse(requireEnv('MATCHBOX_FUNCTIONS')) as FunctionSpec[]
const functions: RoutedFunction[] = []
for (const spec of specs) {
  const module = await import(new URL(`file://${spec.entrypoint}`).href)
  const handler = module.default?.fetch
  if (typeof handler !== 'function') {
    throw new Error(`${spec.entrypoint} must default-export { fetch }`)
  }
  functions.push({ name: spec.name, verifyJwt: spec.verifyJwt, fetch: handler })
}

const handler = createGateway({ functions, jwtSecret: requireEnv('MATCHBOX_JWT_SECRET') })
const server = Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(requireEnv('MATCHBOX_API_PORT')),
    // The Node side waits for this line to know the functions are ready.
    onListen: ({ port }) => console.log(JSON.stringify({ ready: true, port })),
  },
  handler,
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => {
    server.shutdown().finally(() => Deno.exit(0))
  })
}

function requireEnv(name: string): string {
  const value = Deno.env.get(name)
  if (!value) throw new Error(`${name} is not set`)
  return value
}
