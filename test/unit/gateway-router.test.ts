import { describe, expect, it, vi } from 'vitest'
import { createGateway, type RoutedFunction } from '../../stack/gateway/router.ts'
import {
  getEndpoint,
  readJson,
  readsForwardedRequests,
  requestPath,
  takesForwardedRequests,
} from '../../supabase/functions/_shared/http.ts'
import { LOCAL_ANON_KEY, LOCAL_JWT_SECRET } from '../../stack/keys.ts'
import { badTokens, signToken } from '../support/tokens.ts'

// A function that reports what reached it, so the tests see the gateway's routing.
const echo = (name: string, verifyJwt: boolean): RoutedFunction => ({
  name,
  verifyJwt,
  fetch: (request) => {
    const url = new URL(request.url)
    return Response.json({ path: url.pathname, search: url.search, method: request.method })
  },
})

const gateway = createGateway({
  functions: [echo('guarded', true), echo('open', false)],
  jwtSecret: LOCAL_JWT_SECRET,
})
const call = (path: string, init: RequestInit = {}) =>
  gateway(new Request(`http://gateway${path}`, init))

describe('gateway', () => {
  it('passes a request with a valid key to the function, under the function name', async () => {
    const response = await call('/functions/v1/guarded/sub/path?x=1', {
      headers: { authorization: `Bearer ${LOCAL_ANON_KEY}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      path: '/guarded/sub/path',
      search: '?x=1',
      method: 'GET',
    })
  })

  it('accepts the key in the apikey header', async () => {
    const response = await call('/functions/v1/guarded', { headers: { apikey: LOCAL_ANON_KEY } })
    expect(response.status).toBe(200)
  })

  it('turns away a request without a key', async () => {
    const response = await call('/functions/v1/guarded', { method: 'POST' })
    expect(response.status).toBe(401)
    expect((await response.json()).error.code).toBe('unauthorized')
  })

  it.each(['malformed', 'wrong signature', 'expired', 'none algorithm'])(
    'turns away a %s token',
    async (kind) => {
      const token = (await badTokens())[kind]!
      const response = await call('/functions/v1/guarded', {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(response.status).toBe(401)
      const body = await response.json()
      expect(body.error.code).toBe('unauthorized')
      expect(body.error.message).toMatch(/^invalid JWT: /)
    },
  )

  it('says why a token is refused', async () => {
    const tokens = await badTokens()
    const message = async (token: string) =>
      (
        await (
          await call('/functions/v1/guarded', { headers: { authorization: `Bearer ${token}` } })
        ).json()
      ).error.message
    expect(await message(tokens.expired!)).toBe('invalid JWT: the token has expired')
    expect(await message(tokens['wrong signature']!)).toBe(
      'invalid JWT: the signature does not match',
    )
    expect(await message(tokens['none algorithm']!)).toBe(
      'invalid JWT: the token must be signed with HS256',
    )
  })

  it('refuses a token it accepted before once the token has expired', async () => {
    const token = await signToken(
      { role: 'anon' },
      { expiresAt: Math.floor(Date.now() / 1000) + 60 },
    )
    const withToken = { headers: { authorization: `Bearer ${token}` } }
    expect((await call('/functions/v1/guarded', withToken)).status).toBe(200)
    expect((await call('/functions/v1/guarded', withToken)).status).toBe(200)
    vi.useFakeTimers({ now: Date.now() + 120_000 })
    try {
      const response = await call('/functions/v1/guarded', withToken)
      expect(response.status).toBe(401)
      expect((await response.json()).error.message).toBe('invalid JWT: the token has expired')
    } finally {
      vi.useRealTimers()
    }
  })

  it('lets preflights through without a key', async () => {
    const response = await call('/functions/v1/guarded', { method: 'OPTIONS' })
    expect(response.status).toBe(200)
  })

  it('lets anyone reach a function with verify_jwt = false', async () => {
    expect((await call('/functions/v1/open')).status).toBe(200)
  })

  it('answers 404 for an unknown function or path', async () => {
    const unknown = await call('/functions/v1/nope', { headers: { apikey: LOCAL_ANON_KEY } })
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error.message).toBe('function "nope" not found')
    expect((await call('/rest/v1/items')).status).toBe(404)
  })

  it.each([
    ['/rest/v1/items', 'PostgREST'],
    ['/auth/v1/token', 'GoTrue'],
  ])('says that %s is not served locally, and what would serve it', async (path, service) => {
    const response = await call(path)
    expect(response.status).toBe(404)
    const { message } = (await response.json()).error
    expect(message).toContain(`is not served by the local stack: ${service}`)
    expect(message).toContain('hosted Supabase or `supabase start`')
  })

  it('echoes at most a bounded part of a long name in its 404s', async () => {
    const long = 'x'.repeat(100_000)
    const fn = await call(`/functions/v1/${long}`, { headers: { apikey: LOCAL_ANON_KEY } })
    expect(fn.status).toBe(404)
    expect((await fn.text()).length).toBeLessThan(300)
    const path = await call(`/${long}`)
    expect((await path.text()).length).toBeLessThan(300)
  })

  it('says a token whose nbf is in the future is not valid yet', async () => {
    const later = await signToken({ role: 'anon', nbf: Math.floor(Date.now() / 1000) + 600 })
    const response = await call('/functions/v1/guarded', {
      headers: { authorization: `Bearer ${later}` },
    })
    expect(response.status).toBe(401)
    expect((await response.json()).error.message).toBe(
      'invalid JWT: the token is not valid yet (its nbf is in the future)',
    )
  })

  it('reads the body before admission, within its deadline (408 past it)', async () => {
    const slowGateway = createGateway({
      functions: [echo('guarded', true)],
      jwtSecret: LOCAL_JWT_SECRET,
      limits: { maxConcurrent: 1, maxQueued: 0, timeoutMs: 5_000 },
      bodyTimeoutMs: 150,
    })
    const never = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) })
    const stalled = slowGateway(
      new Request('http://gateway/functions/v1/guarded', {
        method: 'POST',
        body: never,
        headers: { apikey: LOCAL_ANON_KEY, 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit),
    )
    // The one slot is free while the stalled body is read: a normal request is served.
    const normal = await slowGateway(
      new Request('http://gateway/functions/v1/guarded', {
        method: 'POST',
        body: '{}',
        headers: { apikey: LOCAL_ANON_KEY, 'content-type': 'application/json' },
      }),
    )
    expect(normal.status).toBe(200)
    const refused = await stalled
    expect(refused.status).toBe(408)
    expect((await refused.json()).error.code).toBe('request_timeout')
  })

  it('hands a function in this process the request itself, with its path and body read', async () => {
    const seen: Request[] = []
    const inProcess = createGateway({
      functions: [
        {
          name: 'local',
          verifyJwt: false,
          inProcess: true,
          fetch: async (request) => {
            seen.push(request)
            return Response.json({ path: requestPath(request), body: await readJson(request) })
          },
        },
      ],
      jwtSecret: LOCAL_JWT_SECRET,
    })
    const sent = new Request('http://gateway/functions/v1/local/a/b?x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vector: [1, 2, 3] }),
    })
    const response = await inProcess(sent)
    expect(await response.json()).toEqual({ path: '/local/a/b', body: { vector: [1, 2, 3] } })
    // No copy was made: the function got the request that came in, its body read once.
    expect(seen[0]).toBe(sent)
    expect(sent.bodyUsed).toBe(true)
    // A body larger than a function's own bound is refused as if it were read there.
    const small = createGateway({
      functions: [
        {
          name: 'local',
          verifyJwt: false,
          inProcess: true,
          fetch: async (request) => Response.json(await readJson(request, 8)),
        },
      ],
      jwtSecret: LOCAL_JWT_SECRET,
    })
    const refused = await small(
      new Request('http://gateway/functions/v1/local', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":"long enough"}',
      }),
    )
    expect(refused.status).toBe(413)
  })

  it('hands requests as they came only to handlers that read them through the pipeline', async () => {
    // main.ts sets inProcess from this mark: a user's own function, which may read
    // request.url or the body itself, is not marked and gets a copy as before.
    expect(takesForwardedRequests(getEndpoint(() => Promise.resolve({})))).toBe(true)
    expect(takesForwardedRequests(readsForwardedRequests((_request: Request) => 1))).toBe(true)
    expect(takesForwardedRequests((request: Request) => request.json())).toBe(false)
    expect(takesForwardedRequests(undefined)).toBe(false)
    const copied = createGateway({
      functions: [
        {
          name: 'plain',
          verifyJwt: false,
          fetch: async (request) =>
            Response.json({ path: new URL(request.url).pathname, body: await request.json() }),
        },
      ],
      jwtSecret: LOCAL_JWT_SECRET,
    })
    const response = await copied(
      new Request('http://gateway/functions/v1/plain/x', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      }),
    )
    expect(await response.json()).toEqual({ path: '/plain/x', body: { a: 1 } })
  })

  it('answers health checks', async () => {
    // No admission limits were given: each function's counts are null.
    expect(await (await call('/health')).json()).toEqual({
      status: 'ok',
      admission: { guarded: null, open: null },
    })
  })
})
