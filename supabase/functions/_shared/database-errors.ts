/**
 * What the database's failures mean to a caller over HTTP: a refused privilege, a wrong
 * dimension, a cancelled statement, a lost connection. Free of Deno's globals, so that
 * Node's tests can import it.
 */
import { HttpError } from './errors.ts'

const DIMENSION_ERROR = /^expected \d+ dimensions, not \d+$/

/** The HTTP error a database failure stands for; unknown failures pass through to a 500. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof HttpError) return error
  const code = errorCode(error)
  const message = error instanceof Error ? error.message : ''
  if (code === '42501') return new HttpError(403, 'forbidden', message || 'permission denied')
  if (code === '22000' && DIMENSION_ERROR.test(message)) {
    return new HttpError(400, 'dimension_mismatch', message)
  }
  if (code === '57014')
    return new HttpError(504, 'timeout', 'the query ran past its time limit and was cancelled')
  if (isConnectionFailure(error)) {
    console.error('database unavailable:', error)
    return new HttpError(
      503,
      'database_unavailable',
      'the database is unavailable: try again shortly',
    )
  }
  return error
}

/** postgres.js's own codes for a connection it could not open or has lost. */
const LOST_CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
])

const CONNECTION_ERRORS = new Set([
  ...LOST_CONNECTION,
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
])

/** The `code` an error carries: a SQLSTATE, or postgres.js's own (e.g. `CONNECTION_CLOSED`). */
export function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code
}

/**
 * Whether the connection `error` came on is gone: postgres.js lost it, or the server ended
 * the session (a FATAL or PANIC error). Narrower than `isConnectionFailure`: a connection
 * error SQLSTATE raised in a statement (by dblink, say) leaves the session open.
 */
export function isLostConnection(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown }
  return (
    (typeof code === 'string' && LOST_CONNECTION.has(code)) ||
    severity === 'FATAL' ||
    severity === 'PANIC'
  )
}

/** Whether `error` says the connection to the database failed or was lost. */
export function isConnectionFailure(error: unknown): boolean {
  const code = errorCode(error)
  return typeof code === 'string' && CONNECTION_ERRORS.has(code)
}

/**
 * Whether `error` was thrown by postgres.js's `nextWrite` timer, outside any query: its write
 * to a connection whose socket has closed (porsager/postgres#1154, #1208; pool.ts). Told by
 * the frame it was thrown from, whatever the runtime's message.
 */
export function isClosedSocketWrite(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    /^\s+at (?:[\w$]+\.)?nextWrite \([^)\n]*postgres[^)\n]*connection\.js/m.test(error.stack ?? '')
  )
}
