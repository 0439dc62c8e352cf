/**
 * The `vectors` function's router: `/vectors/<collection>/<route>` to the pipeline of that
 * route, each with its method, schema and work.
 */
import {
  deleteRecords,
  describeCollection,
  fetchRecords,
  queryCollection,
  upsertRecords,
  withCollection,
} from './collections.ts'
import { errorResponse, getEndpoint, postEndpoint } from './http.ts'
import {
  DeleteRequest,
  FetchRequest,
  QueryRequest,
  UpsertRequest,
  VECTORS_ROUTES,
} from './vectors-contract.ts'

/** Each POST route: its body schema, success status and work, given the collection's name. */
const POST_ROUTES = {
  upsert: (name: string) =>
    postEndpoint({
      schema: UpsertRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => upsertRecords(collection, input, caller)),
    }),
  fetch: (name: string) =>
    postEndpoint({
      schema: FetchRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => fetchRecords(collection, input, caller)),
    }),
  delete: (name: string) =>
    postEndpoint({
      schema: DeleteRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => deleteRecords(collection, input, caller)),
    }),
  query: (name: string) =>
    postEndpoint({
      schema: QueryRequest,
      status: 200,
      handle: async (input, caller) => {
        const { matches, scan, plan } = await withCollection(name, (collection) =>
          queryCollection(collection, input, caller),
        )
        return input.explain ? { matches, scan, plan } : { matches }
      },
    }),
} as const

/** Routes a request of the vectors function. */
export async function routeVectorsRequest(request: Request): Promise<Response> {
  const segments = new URL(request.url).pathname.split('/').filter(Boolean)
  // segments: ['vectors', <collection>, <route>]
  const [, name, route, ...extra] = segments
  if (!name || !route || extra.length > 0) {
    return errorResponse(
      404,
      'not_found',
      'expected /vectors/<collection>/<route>: upsert, fetch, delete, query or describe',
    )
  }
  if (route === 'describe') return await describe(request, name)
  if (route in POST_ROUTES)
    return await POST_ROUTES[route as keyof typeof POST_ROUTES](name)(request)
  return errorResponse(
    404,
    'not_found',
    `unknown route ${JSON.stringify(route)}: use ${VECTORS_ROUTES.join(', ')}`,
  )
}

function describe(request: Request, name: string): Promise<Response> {
  return getEndpoint((caller) =>
    withCollection(name, (collection) => describeCollection(collection, caller)),
  )(request)
}
