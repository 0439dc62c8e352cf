/**
 * How the SDK reaches the functions: through a functions-js client (its own, or the one in a
 * supabase-js client), validating requests with the functions' own schemas first and turning
 * every failure into a MatchboxError in `{ data, error }`.
 */
import { FunctionsClient } from '@supabase/functions-js'
import type { z } from 'zod'
import { CONSISTENCY_HEADER, parseLsn } from '../supabase/functions/_shared/consistency.ts'
import { describeIssue } from '../supabase/functions/_shared/contract.ts'
import { ERROR_CODES, type ErrorCode } from '../supabase/functions/_shared/errors.ts'
import {
  MatchboxError,
  MatchboxFetchError,
  MatchboxHttpError,
  MatchboxValidationError,
} from './errors.ts'
import type { CallOptions, MatchboxResult } from './types.ts'

/** The part of a functions client the SDK uses; `supabase.functions` is one. */
export interface FunctionsInvoker {
  invoke: FunctionsClient['invoke']
}

/** Connection settings for a client made without supabase-js. */
export interface ClientOptions {
  /** The project URL, e.g. `https://xyz.supabase.co` or `http://127.0.0.1:54321`. */
  url: string
  /** The project's API key (anon or service_role), sent as `apikey`. */
  key: string
  /**
   * A signed-in user's access token (from `supabase.auth` on hosted Supabase, `npm run token`
   * locally), sent as `Authorization: Bearer <accessToken>`; without it the key is sent there.
   */
  accessToken?: string
  /** Extra headers sent with every request. */
  headers?: Record<string, string>
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch
}

/** Either connection settings or a supabase-js client (anything with `functions.invoke`). */
export type ClientSource = ClientOptions | { functions: FunctionsInvoker }

/** One call: which function path, how, and the schema its body must pass. */
export interface CallSpec {
  method: 'GET' | 'POST'
  schema?: z.ZodType
  body?: unknown
}

/** Calls functions and returns `{ data, error }`; shared by every client of the SDK. */
export class Transport {
  readonly #functions: FunctionsInvoker
  /** The newest consistency token a write answered: sent with every call, so reads see it. */
  #consistency: string | undefined

  constructor(source: ClientSource) {
    if ('functions' in source) {
      this.#functions = source.functions
      return
    }
    const base = source.url.replace(/\/+$/, '')
    this.#functions = new FunctionsClient(`${base}/functions/v1`, {
      headers: {
        apikey: source.key,
        Authorization: `Bearer ${source.accessToken ?? source.key}`,
        ...source.headers,
      },
      customFetch: source.fetch,
    })
  }

  /** Calls `path` (e.g. `vectors/docs/query`); never throws. */
  async call<T>(
    path: string,
    spec: CallSpec,
    options: CallOptions = {},
  ): Promise<MatchboxResult<T>> {
    try {
      let body: Record<string, unknown> | undefined
      if (spec.schema) {
        // Checked here too, so that malformed input costs no round trip; the function checks
        // it again with the same schema, since not every caller uses this SDK.
        const parsed = spec.schema.safeParse(spec.body)
        if (!parsed.success) {
          return {
            data: null,
            error: new MatchboxValidationError(describeIssue(parsed.error), parsed.error),
          }
        }
        body = parsed.data as Record<string, unknown>
      }
      const { data, error, response } = await this.#functions.invoke<T>(path, {
        method: spec.method,
        body,
        signal: options.signal,
        headers: this.#consistency ? { [CONSISTENCY_HEADER]: this.#consistency } : undefined,
      })
      this.#remember(response?.headers.get(CONSISTENCY_HEADER))
      if (error) return { data: null, error: await toMatchboxError(error) }
      return { data: data as T, error: null }
    } catch (error) {
      return { data: null, error: await toMatchboxError(error) }
    }
  }

  /** Keeps `token` if it is a later WAL position than the one kept (docs/scaling.md). */
  #remember(token: string | null | undefined): void {
    const lsn = parseLsn(token)
    if (lsn === undefined) return
    const kept = parseLsn(this.#consistency)
    if (kept === undefined || lsn > kept) this.#consistency = token!
  }
}

/** The SDK error for whatever functions-js returned or threw. */
export async function toMatchboxError(error: unknown): Promise<MatchboxError> {
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
    if (isErrorCode(code) && typeof message === 'string') {
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

function isErrorCode(code: unknown): code is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(code)
}
