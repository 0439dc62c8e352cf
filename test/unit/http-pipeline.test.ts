import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  type HttpError,
  HttpError as HttpErrorClass,
} from '../../supabase/functions/_shared/errors.ts'
import { postEndpoint, readBody, readJson } from '../../supabase/functions/_shared/http.ts'
import { LOCAL_ANON_KEY } from '../../stack/keys.ts'
import { signToken } from '../support/tokens.ts'

const handle = vi.fn((input: { n: number }, caller: { role: string }) =>
  Promise.resolve({
    doubled: input.n * 2,
    role: caller.role,
  }),
)
const endpoint = postEndpoint({ schema: z.strictObject({ n: z.number() }), status: 201, handle })

function request(
  body: BodyInit | null,
  headers: Record<string, string> = {},
  method = 'POST',
): Request {
  return new Request('http://fn/test', {
    method,
    body,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${LOCAL_ANON_KEY}`,
      ...headers,
    },
  })
}

async function answer(req: Request) {
  const response = await endpoint(req)
  return {
    status: response.status,
    body: response.status === 204 ? null : await response.json(),
    response,
  }
}

describe('postEndpoint', () => {
  it('runs the work for a valid body and answers its status', async () => {
    const { status, body } = await answer(request('{"n":21}'))
    expect(status).toBe(201)
    expect(body).toEqual({ doubled: 42, role: 'anon' })
  })

  it('answers preflights with CORS headers and no body', async () => {
    const { status, response } = await answer(request(null, {}, 'OPTIONS'))
    expect(status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-headers')).toContain('apikey')
  })

  it('refuses other methods with 405 and Allow', async () => {
    const { status, body, response } = await answer(request(null, {}, 'GET'))
    expect(status).toBe(405)
    expect(body.error.code).toBe('method_not_allowed')
    expect(response.headers.get('allow')).toBe('POST, OPTIONS')
  })

  it('refuses a body that is not JSON by content type (415)', async () => {
    const { status, body } = await answer(
      request('n=1', { 'content-type': 'application/x-www-form-urlencoded' }),
    )
    expect(status).toBe(415)
    expect(body.error.message).toBe(
      'content-type must be application/json, not application/x-www-form-urlencoded',
    )
  })

  it('refuses malformed or empty JSON (400 invalid_json)', async () => {
    expect((await answer(request('{"n":'))).body.error.code).toBe('invalid_json')
    expect((await answer(request(''))).body.error.message).toBe(
      'request body is empty: send a JSON object',
    )
  })

  it('refuses invalid input (400 invalid_request) without running the work', async () => {
    handle.mockClear()
    const { status, body } = await answer(request('{"n":"21"}'))
    expect(status).toBe(400)
    expect(body.error).toEqual({
      code: 'invalid_request',
      message: 'n: expected a number, not a string',
    })
    expect(handle).not.toHaveBeenCalled()
  })

  it('refuses a body over the limit (413), declared or streamed', async () => {
    const declared = (await readJson(request('{}', { 'content-length': '999999999' })).catch(
      (e: unknown) => e,
    )) as HttpError
    expect(declared.status).toBe(413)
    const streamed = (await readJson(request(JSON.stringify({ n: 'x'.repeat(2000) })), 1000).catch(
      (e: unknown) => e,
    )) as HttpError
    expect(streamed.status).toBe(413)
    expect(streamed.message).toBe('request body is larger than 1000 bytes')
  })

  it('needs a token (401) whose role is an API role (403)', async () => {
    const missing = await answer(request('{"n":1}', { authorization: '' }))
    expect(missing.status).toBe(401)
    const postgresRole = await signToken({ role: 'postgres' })
    const forbidden = await answer(request('{"n":1}', { authorization: `Bearer ${postgresRole}` }))
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.error.message).toBe('role "postgres" is not allowed')
  })

  it.each([
    [
      'nesting deeper than the bound',
      `{"n":${'['.repeat(40)}${']'.repeat(40)}}`,
      'request body nests deeper than 32 levels',
    ],
    ['a number that overflows', '{"n":1e400}', 'n: not a finite number (it overflows a double)'],
    ['a negative one', '{"n":[1,-1e999]}', 'n.1: not a finite number (it overflows a double)'],
    ['a lone surrogate in a value', '{"n":"\\ud800"}', 'n: a lone UTF-16 surrogate'],
    ['a lone surrogate in a key', '{"\\udc00":1}', 'the key has a lone UTF-16 surrogate'],
    [
      'a __proto__ key',
      '{"m":{"__proto__":{"x":1}}}',
      'm.__proto__: "__proto__" is not allowed as a key',
    ],
  ])('refuses %s at parse time (400 invalid_json), before any work', async (_, text, message) => {
    handle.mockClear()
    const { status, body } = await answer(request(text))
    expect(status).toBe(400)
    expect(body.error.code).toBe('invalid_json')
    expect(body.error.message).toContain(message)
    expect(handle).not.toHaveBeenCalled()
  })

  it('keeps well-formed surrogate pairs and deep-but-bounded bodies', async () => {
    expect(await readJson(request('{"n":"\\ud83d\\ude00"}'))).toEqual({ n: '😀' })
    const deep = `${'['.repeat(31)}1${']'.repeat(31)}`
    expect(await readJson(request(`{"n":${deep.slice(1, -1)}}`))).toBeTruthy()
  })

  it('answers 408 for a body that does not arrive in time, and reads no further', async () => {
    let pulls = 0
    const trickle = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls++
        await new Promise((resolve) => setTimeout(resolve, 30))
        controller.enqueue(new TextEncoder().encode(' '))
      },
    })
    const slow = new Request('http://fn/test', {
      method: 'POST',
      body: trickle,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit)
    const started = Date.now()
    const error = (await readBody(slow, 1024, 200).catch((e: unknown) => e)) as HttpError
    expect(error.status).toBe(408)
    expect(error.code).toBe('request_timeout')
    expect(error.message).toBe('request body did not arrive within 200 ms')
    expect(Date.now() - started).toBeLessThan(1000)
    const after = pulls
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(pulls - after).toBeLessThanOrEqual(1)
  })

  it('authorizes the caller before the body is validated', async () => {
    const validate = vi.fn(() => true)
    const guarded = postEndpoint({
      schema: z.unknown().refine(validate),
      status: 200,
      authorize: (caller) => {
        if (caller.role !== 'service_role') throw new HttpErrorClass(403, 'forbidden', 'no')
      },
      handle: () => Promise.resolve({}),
    })
    const response = await guarded(request('{"anything":1}'))
    expect(response.status).toBe(403)
    expect(validate).not.toHaveBeenCalled()
  })

  it.each([
    [
      { authorization: 'Basic dXNlcjpwYXNz' },
      'expected a Bearer token in the authorization header, not "Basic"',
    ],
    [
      { authorization: 'Bearer ' },
      'empty token: the authorization header has no token after Bearer',
    ],
    [{ authorization: '' }, 'expected a Bearer token in the authorization header'],
    [{ authorization: 'Bearer a b' }, 'malformed authorization header: expected "Bearer <token>"'],
  ])('says what is wrong with the authorization header %j', async (headers, message) => {
    const { status, body } = await answer(request('{"n":1}', headers))
    expect(status).toBe(401)
    expect(body.error.message).toBe(message)
  })

  it('answers a generic 500 for an unexpected failure, without its details', async () => {
    const failing = postEndpoint({
      schema: z.object({}),
      status: 200,
      handle: () => Promise.reject(new Error('secret detail: connection string')),
    })
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const response = await failing(request('{}'))
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).toBe('{"error":{"code":"internal_error","message":"internal server error"}}')
    expect(spy).toHaveBeenCalled()
    spy.mockRestore()
  })
})
