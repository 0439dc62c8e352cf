/** The SDK's entry point: one client for the tutorial's items and every collection. */
import { CollectionClient, type Metadata } from './collection.ts'
import { ItemsClient } from './client.ts'
import { type ClientSource, Transport } from './transport.ts'

/** Everything Matchbox serves, through one connection. */
export interface MatchboxClient {
  /** The tutorial's `items` (insertItems, matchItems). */
  items: ItemsClient
  /** A collection made with `matchbox collection new` (or `npm run collection:new`), typed by its metadata. */
  collection<M extends Metadata = Metadata>(name: string): CollectionClient<M>
}

/**
 * Creates a client from connection settings or a supabase-js client.
 *
 * @example
 * const client = createMatchboxClient({ url: 'http://127.0.0.1:54321', key: anonKey })
 * const { data } = await client.collection<{ category: string }>('docs').query({ vector, topK: 5 })
 * // data.matches: [{ id, distance, metadata: { category } }, …]
 *
 * @example As a signed-in user (owner and tenant collections)
 * const { data: { session } } = await supabase.auth.getSession()
 * const mine = createMatchboxClient({ url, key: anonKey, accessToken: session!.access_token })
 */
export function createMatchboxClient(source: ClientSource): MatchboxClient {
  const transport = new Transport(source)
  return {
    items: new ItemsClient(transport),
    collection: <M extends Metadata = Metadata>(name: string) =>
      new CollectionClient<M>(transport, name),
  }
}
