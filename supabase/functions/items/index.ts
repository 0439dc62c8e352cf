/**
 * `POST /functions/v1/items`: inserts a batch of embeddings, all or nothing.
 * Body `{"items":[{"embedding":[1,2,3]}, …]}`, answer `201 {"ids":[…]}` in input order.
 */
import { requireRole } from '../_shared/auth.ts'
import { InsertItemsRequest } from '../_shared/contract.ts'
import { postEndpoint } from '../_shared/http.ts'
import { insertItems } from '../_shared/items.ts'

export default {
  fetch: postEndpoint({
    schema: InsertItemsRequest,
    status: 201,
    authorize: requireRole('service_role'),
    handle: insertItems,
  }),
} satisfies Deno.ServeDefaultExport
