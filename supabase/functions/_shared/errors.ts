/**
 * The errors a function answers with: a status, a stable code and a message. Its own module,
 * importing nothing, so that any module can throw one without importing the request pipeline.
 */

/** Every code an error answer may carry. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'dimension_mismatch',
  'invalid_filter',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'method_not_allowed',
  'request_timeout',
  'payload_too_large',
  'unsupported_media_type',
  'database_unavailable',
  'overloaded',
  'function_unavailable',
  'function_crashed',
  'timeout',
  'internal_error',
] as const

/** What an error answer says went wrong, as a stable machine-readable code. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** A failure that has a status and code of its own; anything else answers 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}
