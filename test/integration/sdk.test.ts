/** The SDK against the real stack: the tutorial's numbers, and each kind of error. */
import { inspect } from 'node:util'
import { createClient } from '@supabase/supabase-js'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  createItemsClient,
  createMatchboxClient,
  MatchboxFetchError,
  MatchboxHttpError,
  MatchboxValidationError,
} from '../../src/index.ts'
import { tutorialPoints } from '../../scripts/demo.ts'
import { freePort } from '../../stack/ports.ts'
import { stack } from '../support/http.ts'

const admin = createItemsClient({ url: stack.apiUrl, key: stack.serviceRoleKey })
const reader = createItemsClient({ url: stack.apiUrl, key: stack.anonKey })
const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })

// The tutorial's answer for [3,1,2]: pgvector's cosine distances to 1e-9.
const TUTORIAL_MATCHES = [
  { embedding: [3, 1, 2], distance: 0 },
  { embedding: [2, 1, 1], distance: 0.0180194939380343 },
  { embedding: [3, 1, 3], distance: 0.0189770568240547 },
  { embedding: [2, 1, 2], distance: 0.0200421129877772 },
]

let tutorialIds: number[] = []

beforeAll(async () => {
  await sql`delete from public.items`
  const { data, error } = await admin.insertItems(tutorialPoints())
  expect(error).toBeNull()
  tutorialIds = data!.ids
})
afterAll(() => sql.end())

describe('the tutorial through the SDK', () => {
  it('inserts the 28 points and answers their ids in order', async () => {
    expect(tutorialIds).toHaveLength(28)
    expect([...tutorialIds].sort((a, b) => a - b)).toEqual(tutorialIds)
    const [first] =
      await sql`select embedding::text as e from public.items where id = ${tutorialIds[0]!}`
    expect(first!.e).toBe('[1,2,3]')
  })

  it('finds the 4 items nearest to [3,1,2] with the tutorial distances', async () => {
    const { data, error } = await reader.matchItems([3, 1, 2], 4)
    expect(error).toBeNull()
    expect(data!.matches.map(({ embedding }) => embedding)).toEqual(
      TUTORIAL_MATCHES.map((m) => m.embedding),
    )
    data!.matches.forEach((match, index) =>
      expect(match.distance).toBeCloseTo(TUTORIAL_MATCHES[index]!.distance, 9),
    )
    // [3,1,2] is the 20th grid point, inserted after [1,2,3]: its id is the 21st.
    expect(data!.matches[0]!.id).toBe(tutorialIds[20])
  })

  it('returns more than ef_search (40) rows when asked, in distance order', async () => {
    await admin.insertItems(Array.from({ length: 60 }, (_, i) => [i + 1, 2, 3]))
    const { data } = await reader.matchItems([1, 2, 3], 80)
    expect(data!.matches).toHaveLength(80)
    const distances = data!.matches.map((m) => m.distance)
    expect(distances).toEqual([...distances].sort((a, b) => a - b))
    await sql`delete from public.items where id <> all(${tutorialIds})`
  })

  it('takes ef_search per search, 1 to 1000, and still returns whole counts in order', async () => {
    await admin.insertItems(Array.from({ length: 60 }, (_, i) => [i + 1, 2, 3]))
    for (const efSearch of [1, 1000]) {
      const { data, error } = await reader.matchItems([1, 2, 3], 80, { efSearch })
      expect(error).toBeNull()
      expect(data!.matches).toHaveLength(80)
      const distances = data!.matches.map((m) => m.distance)
      expect(distances).toEqual([...distances].sort((a, b) => a - b))
    }
    const tutorial = await reader.matchItems([3, 1, 2], 4, { efSearch: 10 })
    expect(tutorial.data!.matches.map((m) => m.id)).toEqual(
      (await reader.matchItems([3, 1, 2], 4)).data!.matches.map((m) => m.id),
    )
    expect((await reader.matchItems([3, 1, 2], 4, { efSearch: 0 })).error?.message).toBe(
      'efSearch: expected at least 1',
    )
    await sql`delete from public.items where id <> all(${tutorialIds})`
  })

  it('works from a supabase-js client (Node 20 needs the ws transport)', async () => {
    const supabase = createClient(stack.apiUrl, stack.anonKey, {
      realtime: { transport: WebSocket as never },
    })
    const { data, error } = await createItemsClient(supabase).matchItems([3, 1, 2], 1)
    expect(error).toBeNull()
    expect(data!.matches[0]!.embedding).toEqual([3, 1, 2])
  })
})

describe('the envelope and the credentials', () => {
  it('answers a batch of searches as { results: [{ matches }] }, in order', async () => {
    const { data, error } = await reader.matchItemsMany(
      [
        [3, 1, 2],
        [1, 2, 3],
      ],
      2,
    )
    expect(error).toBeNull()
    const single = await Promise.all([
      reader.matchItems([3, 1, 2], 2),
      reader.matchItems([1, 2, 3], 2),
    ])
    expect(data).toEqual({ results: single.map((answer) => answer.data) })
    expect((await reader.matchItemsMany([], 2)).error?.message).toBe(
      'embeddings: expected at least 1 embedding',
    )
  })

  it("answers each call's data as its function's JSON answer", async () => {
    const direct = await fetch(`${stack.apiUrl}/functions/v1/match-items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.anonKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ embedding: [3, 1, 2], count: 4 }),
    })
    expect((await reader.matchItems([3, 1, 2], 4)).data).toEqual(await direct.json())
  })

  it('sends the key as apikey and a user access token as the bearer', async () => {
    const seen: Headers[] = []
    const spy = createMatchboxClient({
      url: stack.apiUrl,
      key: stack.anonKey,
      accessToken: stack.serviceRoleKey,
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers))
        return fetch(input, init)
      },
    })
    // The anon key alone may not insert: the bearer token is what the function acts as.
    const { data, error } = await spy.items.insertItems([[1, 2, 3]])
    expect(error).toBeNull()
    expect(data!.ids).toHaveLength(1)
    expect(seen[0]!.get('apikey')).toBe(stack.anonKey)
    expect(seen[0]!.get('authorization')).toBe(`Bearer ${stack.serviceRoleKey}`)
    await sql`delete from public.items where id = ${data!.ids[0]!}`

    const anon = createMatchboxClient({ url: stack.apiUrl, key: stack.anonKey })
    expect((await anon.items.insertItems([[1, 2, 3]])).error).toMatchObject({ status: 403 })
  })
})

describe('SDK errors', () => {
  it('prints code, status and message when logged, not the Response it carries', async () => {
    const { error } = await admin.insertItems([[1, 2, 3, 4]])
    expect(error!.context).toBeInstanceOf(Response)
    const printed = inspect(error)
    expect(printed).toBe(
      'MatchboxHttpError [dimension_mismatch, status 400]: expected 3 dimensions, not 4',
    )
    expect(inspect({ error })).toContain('dimension_mismatch')
    expect(inspect({ error })).not.toContain('Response')
  })

  it('returns the server refusal of a 4-dimensional vector as MatchboxHttpError', async () => {
    const { data, error } = await admin.insertItems([[1, 2, 3, 4]])
    expect(data).toBeNull()
    expect(error).toBeInstanceOf(MatchboxHttpError)
    expect(error).toMatchObject({
      status: 400,
      code: 'dimension_mismatch',
      message: 'expected 3 dimensions, not 4',
    })
    expect(error!.toJSON()).toEqual({
      name: 'MatchboxHttpError',
      code: 'dimension_mismatch',
      status: 400,
      message: 'expected 3 dimensions, not 4',
    })
  })

  it('returns 403 forbidden for an anon insert', async () => {
    const { error } = await reader.insertItems([[1, 2, 3]])
    expect(error).toMatchObject({ status: 403, code: 'forbidden' })
  })

  it('refuses input that breaks the contract before sending it', async () => {
    const { error } = await reader.matchItems([3, Number.NaN, 2], 4)
    expect(error).toBeInstanceOf(MatchboxValidationError)
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: 'embedding.1: expected a finite number',
    })
    expect((await reader.matchItems([3, 1, 2], 0)).error?.message).toBe(
      'count: expected at least 1',
    )
  })

  it('returns MatchboxFetchError when nothing answers', async () => {
    const nowhere = createItemsClient({
      url: `http://127.0.0.1:${await freePort()}`,
      key: stack.anonKey,
    })
    const { error } = await nowhere.matchItems([3, 1, 2], 4)
    expect(error).toBeInstanceOf(MatchboxFetchError)
    expect(error).toMatchObject({ status: 0, code: 'fetch_failed' })
  })

  it('returns an error, not a throw, for an answer that is not ours', async () => {
    const proxy = createItemsClient({
      url: stack.apiUrl,
      key: stack.anonKey,
      fetch: () =>
        Promise.resolve(
          new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
        ),
    })
    const { error } = await proxy.matchItems([3, 1, 2], 4)
    expect(error).toMatchObject({
      status: 502,
      code: 'http_error',
      message: 'HTTP 502: <html>bad gateway</html>',
    })
  })

  it('honours an abort signal', async () => {
    const { error } = await reader.matchItems([3, 1, 2], 4, { signal: AbortSignal.abort() })
    expect(error).toBeInstanceOf(MatchboxFetchError)
  })
})
