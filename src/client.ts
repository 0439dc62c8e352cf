/**
 * The items client: the tutorial's insert and search over the `items` and `match-items`
 * edge functions, with `{ data, error }` results like supabase-js.
 */
import { FunctionsClient } from '@supabase/functions-js'
import type { z } from 'zod'
import {
  describeIssue,
  FUNCTION_NAMES,
  InsertItemsRequest,
  type InsertItemsResponse,
  type Match,
  MatchItemsRequest,
  type MatchItemsResponse,
} from '../supabase/functions/_shared/contract.ts'
import {
  MatchboxError,
  MatchboxFetchError,
  MatchboxHttpError,
  MatchboxValidationError,
} from './errors.ts'
import type { CallOptions, MatchboxResult, MatchOptions } from './types.ts'

/** The part of a functions client the SDK uses; `supabase.functions` is one. */
export interface FunctionsInvoker {
  invoke: FunctionsClient['invoke']
}

/** Connection settings for a client made without supabase-js. */
export interface ItemsClientOptions {
  /** The project URL, e.g. `https://xyz.supabase.co` or `http://127.0.0.1:54321`. */
  url: string
  /** An API key (anon or service_role) or a user's access token. */
  key: string
  /** Extra headers sent with every request. */
  headers?: Record<string, string>
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch
}

/** Either connection settings or a supabase-js client (anything with `functions.invoke`). */
export type ItemsClientSource = ItemsClientOptions | { functions: FunctionsInvoker }

/**
 * Creates a client for the `items` functions.
 *
 * @example
 * const items = createItemsClient({ url: 'http://127.0.0.1:54321', key: anonKey })
 * const { data, error } = await items.matchItems([3, 1, 2], 4)
 *
 * @example With supabase-js, whose session's token is sent
 * const items = createItemsClient(createClient(url, anonKey))
 */
export function createItemsClient(source: ItemsClientSource): ItemsClient {
  return new ItemsClient(source)
}

/** Inserts and searches the tutorial's `items` table through its edge functions. */
export class ItemsClient {
  readonly #functions: FunctionsInvoker

  constructor(source: ItemsClientSource) {
    if ('functions' in source) {
      this.#functions = source.functions
      return
    }
    const base = source.url.replace(/\/+$/, '')
    this.#functions = new FunctionsClient(`${base}/functions/v1`, {
      headers: { apikey: source.key, Authorization: `Bearer ${source.key}`, ...source.headers },
      customFetch: source.fetch,
    })
  }

  /**
   * The `count` items nearest to `embedding` by cosine distance, nearest first.
   *
   * @param count 1 to 200 (default 10).
   * @example
   * const { data } = await items.matchItems([3, 1, 2], 4)
   * // [{ id: 22, embedding: [3, 1, 2], distance: 0 }, …]
   * @example Trading speed for recall
   * await items.matchItems(embedding, 10, { efSearch: 100 })
   */
  async matchItems(
    embedding: readonly number[],
    count?: number,
    options: MatchOptions = {},
  ): Promise<MatchboxResult<Match[]>> {
    const { efSearch, ...call } = options
    const result = await this.#call<MatchItemsResponse>(
      FUNCTION_NAMES.matchItems,
      MatchItemsRequest,
      { embedding: [...embedding], count, efSearch },
      call,
    )
    return result.error ? result : { data: result.data.matches, error: null }
  }

  /**
   * Inserts embeddings, all or nothing (at most 1000 a call); needs the service_role key.
   *
   * @returns the new ids, in the order of `embeddings`.
   * @example
   * const { data: ids } = await items.insertItems([[1, 2, 3], [1, 1, 1]])
   */
  async insertItems(
    embeddings: readonly (readonly number[])[],
    options: CallOptions = {},
  ): Promise<MatchboxResult<number[]>> {
    const body = { items: embeddings.map((embedding) => ({ embedding: [...embedding] })) }
    const result = await this.#call<InsertItemsResponse>(
      FUNCTION_NAMES.items,
      InsertItemsRequest,
      body,
      options,
    )
    return result.error ? result : { data: result.data.ids, error: null }
  }

  async #call<T>(
    name: string,
    schema: z.ZodType,
    body: unknown,
    options: CallOptions,
  ): Promise<MatchboxResult<T>> {
    try {
      // Checked here too, so that malformed input costs no round trip; the function checks
      // it again with the same schema, since not every caller uses this SDK.
      const parsed = schema.safeParse(body)
      if (!parsed.success) {
        return {
          data: null,
          error: new MatchboxValidationError(describeIssue(parsed.error), parsed.error),
        }
      }
      const { data, error } = await this.#functions.invoke<T>(name, {
        body: parsed.data as Record<string, unknown>,
        signal: options.signal,
      })
      if (error) return { data: null, error: await toMatchboxError(error) }
      return { data: data as T, error: null }
    } catch (error) {
      return { data: null, error: await toMatchboxError(error) }
    }
  }
}

/** The SDK error for whatever functions-js returned or threw. */
async function toMatchboxError(error: unknown): Promise<MatchboxError> {
  if (error instanceof MatchboxError) return error
  const failure = error as { name?: string; message?: string; context?: unknown }
  // Matched by name, not instanceof: a supabase-js client may bring its own functions-js copy.
  if (failure?.name === 'FunctionsHttpError' && failure.context instanceof Response) {
    return await fromErrorResponse(failure.context)
  }
  if (failure?.name === 'FunctionsRelayError') {
    const response = failure.context instanceof Response ? failure.context : undefined
    return new MatchboxHttpError(
      'the Supabase relay could not reach the function',
      'relay_error',
      response?.status ?? 502,
      failure,
    )
  }
  const cause = failure?.name === 'FunctionsFetchError' ? failure.context : error
  return new MatchboxFetchError(`request failed: ${describeCause(cause)}`, cause)
}

async function fromErrorResponse(response: Response): Promise<MatchboxError> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
    const { code, message } = body.error ?? {}
    if (typeof code === 'string' && typeof message === 'string') {
      return new MatchboxHttpError(message, code, response.status, response)
    }
  } catch {
    // Not our error shape (a proxy's page, say): fall through to the status line.
  }
  const summary = text.slice(0, 200) || response.statusText
  return new MatchboxHttpError(
    `HTTP ${response.status}: ${summary}`,
    'http_error',
    response.status,
    response,
  )
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message
  }
  return String(cause)
}
