/**
 * `POST /functions/v1/match-items`: the items nearest to an embedding by cosine distance.
 * Body `{"embedding":[3,1,2],"count":4}`, answer `200 {"matches":[{"id","embedding","distance"}, …]}`;
 * or a batch `{"embeddings":[[3,1,2],…],"count":4}`, answer `200 {"results":[{"matches":[…]}, …]}`.
 */
import { MatchItemsRouteRequest } from '../_shared/contract.ts'
import { postEndpoint } from '../_shared/http.ts'
import { matchItems } from '../_shared/items.ts'

export default {
  fetch: postEndpoint({ schema: MatchItemsRouteRequest, status: 200, handle: matchItems }),
} satisfies Deno.ServeDefaultExport
