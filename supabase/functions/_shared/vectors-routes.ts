/**
 * The `vectors` function's router: `/vectors/<collection>/<route>` to the pipeline of that
 * route, each with its method, schema and work.
 */
import { callerFromRequest } from './auth.ts'
import {
  deleteRecords,
  describeCollection,
  fetchRecords,
  findCollection,
  queryCollection,
  upsertRecords,
} from './collections.ts'
import {
  answerError,
  CORS_HEADERS,
  errorResponse,
  HttpError,
  jsonResponse,
  postEndpoint,
} from './http.ts'
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
      handle: async (input, caller) => upsertRecords(await findCollection(name), input, caller),
    }),
  fetch: (name: string) =>
    postEndpoint({
      schema: FetchRequest,
      status: 200,
      handle: async (input, caller) => fetchRecords(await findCollection(name), input, caller),
    }),
  delete: (name: string) =>
    postEndpoint({
      schema: DeleteRequest,
      status: 200,
      handle: async (input, caller) => deleteRecords(await findCollection(name), input, caller),
    }),
  query: (name: string) =>
    postEndpoint({
      schema: QueryRequest,
      status: 200,
      handle: async (input, caller) => {
        const { matches, scan, plan } = await queryCollection(
          await findCollection(name),
          input,
          caller,
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

async function describe(request: Request, name: string): Promise<Response> {
  if (request.method === 'OPTIONS')
    return new Response(null, { status: 204, headers: CORS_HEADERS })
  try {
    if (request.method !== 'GET') {
      throw new HttpError(
        405,
        'method_not_allowed',
        `method ${request.method} is not allowed: use GET`,
        {
          allow: 'GET, OPTIONS',
        },
      )
    }
    const caller = callerFromRequest(request)
    return jsonResponse(200, await describeCollection(await findCollection(name), caller))
  } catch (error) {
    return answerError(error)
  }
}
