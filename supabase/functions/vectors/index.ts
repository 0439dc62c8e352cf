/**
 * `/functions/v1/vectors/<collection>/<route>`: one function for every collection.
 *
 * - `POST upsert`  `{"records":[{"id","values","metadata"?}, …]}` → `{"upserted":n}`
 * - `POST fetch`   `{"ids":[…]}` → `{"records":[{"id","values","metadata"}, …]}`
 * - `POST delete`  `{"ids":[…]}` or `{"filter":{…}}` → `{"deleted":n}`
 * - `POST query`   `{"vector"|"id", "topK", "filter", "includeValues", "includeMetadata",
 *                   "efSearch"|"probes", "scan"}` → `{"matches":[{"id","distance",…}, …]}`
 * - `GET describe` → `{"name","dimensions","type","metric","index","count"}`
 *
 * The collection's type, dimensions, metric and index come from the database catalog.
 */
import { routeVectorsRequest } from './routes.ts'

export default { fetch: routeVectorsRequest } satisfies Deno.ServeDefaultExport
