/**
 * `/functions/v1/vectors/<collection>/<route>`: one function for every collection.
 *
 * - `POST upsert`  `{"records":[{"id","values","metadata"?}, …]}` → `{"upserted":n}`
 * - `POST fetch`   `{"ids":[…]}` → `{"records":[{"id","values","metadata"}, …]}`
 * - `POST delete`  `{"ids":[…]}` or `{"filter":{…}}` → `{"deleted":n}`
 * - `POST update`  `{"id","metadata"?,"values"?,"mode"?}` or `{"filter","metadata","mode"?}` → `{"updated":n}`
 * - `POST query`   `{"vector"|"id", "topK", "filter", "includeValues", "includeMetadata",
 *                   "efSearch"|"probes", "scan"}` → `{"matches":[{"id","distance",…}, …]}`
 * - `POST list`    `{"limit"?,"cursor"?,"filter"?,"prefix"?}` → `{"ids":[…],"nextCursor"}`
 * - `POST count`   `{"filter"?}` → `{"count":n}`
 * - `GET describe` → `{"name","dimensions","type","metric","index","access","estimatedCount"}`
 *
 * The collection's type, dimensions, metric, index and access mode come from the database
 * catalog; in owner and tenant collections each user reads and writes their own records.
 */
import { readsForwardedRequests } from '../_shared/http.ts'
import { routeVectorsRequest } from './routes.ts'

export default {
  fetch: readsForwardedRequests(routeVectorsRequest),
} satisfies Deno.ServeDefaultExport
