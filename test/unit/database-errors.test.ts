import { describe, expect, it } from 'vitest'
import {
  isClosedSocketWrite,
  isLostConnection,
  translateDatabaseError,
} from '../../supabase/functions/_shared/database-errors.ts'
import { HttpError } from '../../supabase/functions/_shared/errors.ts'

/** An error shaped as postgres.js's write to a closed socket is, thrown from its timer. */
function closedSocketWrite(): TypeError {
  const error = new TypeError("Cannot read properties of null (reading 'write')")
  error.stack = `${error.message}
    at Immediate.nextWrite (file:///cache/npm/postgres/3.4.9/src/connection.js:255:22)
    at Immediate.callback (ext:deno_node/internal/timers.mjs:4:3069)`
  return error
}

describe('isClosedSocketWrite', () => {
  it("recognises postgres.js's write to a closed socket", () => {
    expect(isClosedSocketWrite(closedSocketWrite())).toBe(true)
  })

  it('tells it by the frame it was thrown from, whatever the message', () => {
    const otherMessage = closedSocketWrite()
    otherMessage.message = 'May not write null values to stream'
    expect(isClosedSocketWrite(otherMessage)).toBe(true)
  })

  it('leaves every other uncaught error alone', () => {
    const elsewhere = new TypeError("Cannot read properties of null (reading 'write')")
    elsewhere.stack = `${elsewhere.message}\n    at handler (file:///app/fn.ts:1:1)`
    expect(isClosedSocketWrite(elsewhere)).toBe(false)
    const otherFrame = new TypeError('x is undefined')
    otherFrame.stack = `${otherFrame.message}
    at handle (file:///cache/npm/postgres/3.4.9/src/connection.js:489:6)`
    expect(isClosedSocketWrite(otherFrame)).toBe(false)
    const inMessageOnly = new TypeError('nextWrite (postgres/src/connection.js) failed')
    inMessageOnly.stack = `TypeError: ${inMessageOnly.message}\n    at main (file:///app/x.ts:1:1)`
    expect(isClosedSocketWrite(inMessageOnly)).toBe(false)
    expect(isClosedSocketWrite(new Error('at nextWrite (postgres/src/connection.js:1:1)'))).toBe(
      false,
    )
    expect(isClosedSocketWrite(undefined)).toBe(false)
  })
})

describe('translateDatabaseError', () => {
  const translated = (fields: object) =>
    translateDatabaseError(Object.assign(new Error('message'), fields)) as HttpError

  it('answers 503 for a lost or refused connection', () => {
    for (const code of ['ECONNREFUSED', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', '57P01']) {
      const error = translated({ code })
      expect(error).toBeInstanceOf(HttpError)
      expect([error.status, error.code]).toEqual([503, 'database_unavailable'])
    }
  })

  it('answers 504 for a cancelled statement and 403 for a refused privilege', () => {
    expect(translated({ code: '57014' }).status).toBe(504)
    expect(translated({ code: '42501' }).status).toBe(403)
  })

  it('passes anything else through, to be answered 500 without its details', () => {
    const error = Object.assign(new Error('relation "public.items" does not exist'), {
      code: '42P01',
    })
    expect(translateDatabaseError(error)).toBe(error)
  })
})

describe('isLostConnection', () => {
  it("is postgres.js's own lost-connection codes and a server's FATAL", () => {
    expect(isLostConnection({ code: 'CONNECTION_CLOSED' })).toBe(true)
    expect(isLostConnection({ code: 'ECONNRESET' })).toBe(true)
    expect(isLostConnection({ code: '57P01', severity: 'FATAL' })).toBe(true)
  })

  it('is not a connection-class SQLSTATE raised in a statement, which leaves the session open', () => {
    expect(isLostConnection({ code: '08006', severity: 'ERROR' })).toBe(false)
    expect(isLostConnection({ code: '57014', severity: 'ERROR' })).toBe(false)
    expect(isLostConnection(new HttpError(504, 'timeout', 'x'))).toBe(false)
    expect(isLostConnection(undefined)).toBe(false)
  })
})
