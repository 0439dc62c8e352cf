/**
 * The `vectors` function's routes: `/vectors/<collection>/<route>` to the pipeline of that
 * route, each with its method, schema and work. The route table is the one list of routes.
 */
import { errorResponse, getEndpoint, postEndpoint } from '../_shared/http.ts'
import {
  DeleteRequest,
  FetchRequest,
  QueryRequest,
  UpsertRequest,
} from '../_shared/vectors-contract.ts'
import { withCollection } from './catalog.ts'
import { queryCollection } from './query.ts'
import { deleteRecords, describeCollection, fetchRecords, upsertRecords } from './records.ts'

type Handler = (request: Request) => Promise<Response>

/** Each route: the `fetch` handler of its pipeline, given the collection's name. */
const ROUTES: Readonly<Record<string, (name: string) => Handler>> = {
  upsert: (name) =>
    postEndpoint({
      schema: UpsertRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => upsertRecords(collection, input, caller)),
    }),
  fetch: (name) =>
    postEndpoint({
      schema: FetchRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => fetchRecords(collection, input, caller)),
    }),
  delete: (name) =>
    postEndpoint({
      schema: DeleteRequest,
      status: 200,
      handle: (input, caller) =>
        withCollection(name, (collection) => deleteRecords(collection, input, caller)),
    }),
  query: (name) =>
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
  describe: (name) =>
    getEndpoint((caller) =>
      withCollection(name, (collection) => describeCollection(collection, caller)),
    ),
}

/** The routes' names, for messages and docs. */
export const VECTORS_ROUTES: readonly string[] = Object.keys(ROUTES)

/** Routes a request of the vectors function. */
export async function routeVectorsRequest(request: Request): Promise<Response> {
  const segments = new URL(request.url).pathname.split('/').filter(Boolean)
  // segments: ['vectors', <collection>, <route>]
  const [, name, route, ...extra] = segments
  if (!name || !route || extra.length > 0) {
    return errorResponse(
      404,
      'not_found',
      `expected /vectors/<collection>/<route>: ${VECTORS_ROUTES.join(', ')}`,
    )
  }
  const handler = Object.hasOwn(ROUTES, route) ? ROUTES[route] : undefined
  if (!handler) {
    return errorResponse(
      404,
      'not_found',
      `unknown route ${JSON.stringify(route.slice(0, 64))}: use ${VECTORS_ROUTES.join(', ')}`,
    )
  }
  return await handler(name)(request)
}
