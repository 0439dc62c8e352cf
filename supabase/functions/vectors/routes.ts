/**
 * The `vectors` function's routes: `/vectors/<collection>/<route>` to the pipeline of that
 * route, each with its method, schema, who may call it and its work. The route table is the
 * one list of routes.
 */
import type { Caller } from '../_shared/auth.ts'
import { errorResponse, getEndpoint, postEndpoint, requestPath } from '../_shared/http.ts'
import {
  CountRequest,
  DeleteRequest,
  FetchRequest,
  ListRequest,
  QueryRouteRequest,
  UpdateRequest,
  UpsertRequest,
} from '../_shared/vectors-contract.ts'
import { authorize, type RouteKind } from './access.ts'
import { findCollection, withCollection } from './catalog.ts'
import { queryText, refuseTextInBatch } from './hybrid.ts'
import { listRecords } from './list.ts'
import { queryMany } from './query.ts'
import {
  countRecords,
  deleteRecords,
  describeCollection,
  fetchRecords,
  updateRecords,
  upsertRecords,
} from './records.ts'

type Handler = (request: Request) => Promise<Response>

/**
 * The pipeline's `authorize` for a `kind` route of collection `name`: a caller who may not
 * use it (anon on an owner collection, a user writing a public one, a token without a tenant)
 * is refused before the body is validated, from the cached access mode.
 */
function allowed(name: string, kind: RouteKind): (caller: Caller) => Promise<void> {
  return async (caller) => {
    authorize(await findCollection(name), caller, kind)
  }
}

/** Each route: the `fetch` handler of its pipeline, given the collection's name. */
const ROUTES: Readonly<Record<string, (name: string) => Handler>> = {
  upsert: (name) =>
    postEndpoint({
      schema: UpsertRequest,
      status: 200,
      authorize: allowed(name, 'write'),
      handle: (input, caller) =>
        withCollection(name, (collection) => upsertRecords(collection, input, caller)),
    }),
  fetch: (name) =>
    postEndpoint({
      schema: FetchRequest,
      status: 200,
      authorize: allowed(name, 'read'),
      handle: (input, caller) =>
        withCollection(name, (collection) => fetchRecords(collection, input, caller)),
    }),
  delete: (name) =>
    postEndpoint({
      schema: DeleteRequest,
      status: 200,
      authorize: allowed(name, 'write'),
      handle: (input, caller) =>
        withCollection(name, (collection) => deleteRecords(collection, input, caller)),
    }),
  update: (name) =>
    postEndpoint({
      schema: UpdateRequest,
      status: 200,
      authorize: allowed(name, 'write'),
      handle: (input, caller) =>
        withCollection(name, (collection) => updateRecords(collection, input, caller)),
    }),
  query: (name) =>
    postEndpoint({
      schema: QueryRouteRequest,
      status: 200,
      authorize: allowed(name, 'read'),
      handle: async (input, caller) => {
        if (!('queries' in input) && input.text !== undefined) {
          const text = { ...input, text: input.text }
          return await withCollection(name, (collection) => queryText(collection, text, caller))
        }
        const queries = 'queries' in input ? input.queries : [input]
        refuseTextInBatch(queries)
        const results = await withCollection(name, (collection) =>
          queryMany(collection, queries, caller),
        )
        const answers = results.map(({ matches, scan, plan }, index) =>
          queries[index]!.explain ? { matches, scan, plan } : { matches },
        )
        return 'queries' in input ? { results: answers } : answers[0]
      },
    }),
  list: (name) =>
    postEndpoint({
      schema: ListRequest,
      status: 200,
      authorize: allowed(name, 'read'),
      handle: (input, caller) =>
        withCollection(name, (collection) => listRecords(collection, input, caller)),
    }),
  count: (name) =>
    postEndpoint({
      schema: CountRequest,
      status: 200,
      authorize: allowed(name, 'read'),
      handle: (input, caller) =>
        withCollection(name, (collection) => countRecords(collection, input, caller)),
    }),
  // No body to validate: describeCollection refuses a caller itself.
  describe: (name) =>
    getEndpoint((caller) =>
      withCollection(name, (collection) => describeCollection(collection, caller)),
    ),
}

/** The routes' names, for messages and docs. */
export const VECTORS_ROUTES: readonly string[] = Object.keys(ROUTES)

/** Routes a request of the vectors function. */
export async function routeVectorsRequest(request: Request): Promise<Response> {
  const segments = requestPath(request).split('/').filter(Boolean)
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
