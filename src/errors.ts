/**
 * The errors the SDK returns: one base class with `code`, `status` and `context`, and a
 * subclass per place a call can fail, as functions-js does.
 */
import type { ErrorCode } from '../supabase/functions/_shared/errors.ts'

/**
 * Every code an SDK error may carry: the functions' own codes, and the SDK's for an answer
 * that never came (`fetch_failed`), the relay's failure (`relay_error`) and an error answer
 * not in the functions' shape (`http_error`).
 */
export type MatchboxErrorCode = ErrorCode | 'fetch_failed' | 'relay_error' | 'http_error'

/** Base of every error the SDK returns in `{ error }`. */
export class MatchboxError extends Error {
  /** A stable machine-readable code, e.g. `dimension_mismatch`. */
  readonly code: MatchboxErrorCode
  /** The HTTP status the failure has, or 0 when no answer came back. */
  readonly status: number
  /** Whatever helps explain the failure: the Response, the cause, the request. */
  readonly context: unknown

  constructor(
    message: string,
    options: { code: MatchboxErrorCode; status: number; context?: unknown; name?: string },
  ) {
    super(message)
    this.name = options.name ?? 'MatchboxError'
    this.code = options.code
    this.status = options.status
    this.context = options.context
  }

  /** A plain object for logs and JSON: name, code, status and message. */
  toJSON(): { name: string; code: MatchboxErrorCode; status: number; message: string } {
    return { name: this.name, code: this.code, status: this.status, message: this.message }
  }

  /** What `console.log(error)` prints in Node: the code, status and message, not `context`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.name} [${this.code}, status ${this.status}]: ${this.message}`
  }
}

/**
 * The function answered with an error (`{"error":{"code","message"}}`): bad input, a
 * missing key, a role that may not do this, or a failure on the server.
 */
export class MatchboxHttpError extends MatchboxError {
  constructor(message: string, code: MatchboxErrorCode, status: number, context?: unknown) {
    super(message, { code, status, context, name: 'MatchboxHttpError' })
  }
}

/** The request was refused before it was sent: it breaks the contract (status 400). */
export class MatchboxValidationError extends MatchboxError {
  constructor(message: string, context?: unknown) {
    super(message, {
      code: 'invalid_request',
      status: 400,
      context,
      name: 'MatchboxValidationError',
    })
  }
}

/** No answer came back: the network failed, or the request was aborted (status 0). */
export class MatchboxFetchError extends MatchboxError {
  constructor(message: string, context?: unknown) {
    super(message, { code: 'fetch_failed', status: 0, context, name: 'MatchboxFetchError' })
  }
}
