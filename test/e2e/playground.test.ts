/**
 * The playground in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * against the test run's stack. Inserts and searches through the page, in `items` and in a
 * collection, as service_role and as users of an owner collection, and checks that the page
 * lists what the SDK answers (as that user), what the EXPLAIN says of the index, and that the
 * browser logged no error and no request failed. Leaves
 * screenshots in test/artifacts/ (and, with UPDATE_SCREENSHOT=1, the README's in docs/).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { parseCollectionSpec } from '../../cli/collections/spec.ts'
import { tutorialPoints } from '../../scripts/demo.ts'
import { ROOT } from '../../stack/paths.ts'
import { createItemsClient, createMatchboxClient } from '../../src/index.ts'
import { stack } from '../support/http.ts'
import { userToken } from '../support/tokens.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts')

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const reader = createItemsClient({ url: stack.apiUrl, key: stack.anonKey })
const userDataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-chromium-'))

let context: BrowserContext
let page: Page
/** What the browser said went wrong, by kind. */
const problems = {
  consoleErrors: [] as { text: string; url: string }[],
  pageErrors: [] as string[],
  failedRequests: [] as string[],
  errorResponses: [] as { status: number; url: string }[],
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the playground's browser test needs Debian's Chromium. Install it with \`apt-get install -y chromium\` (.ci/run does).`,
    )
  }
  // Other test files leave rows behind: start from the tutorial's points alone.
  await sql`delete from public.items`
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    // No sandbox as root; no background traffic, which this machine's network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
  page = await context.newPage()
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.consoleErrors.push({ text: message.text(), url: message.location().url })
    }
  })
  page.on('pageerror', (error) => problems.pageErrors.push(error.message))
  page.on('requestfailed', (request) =>
    problems.failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`),
  )
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.errorResponses.push({ status: response.status(), url: response.url() })
    }
  })
})

afterAll(async () => {
  await context?.close()
  await sql.end()
  rmSync(userDataDir, { recursive: true, force: true })
})

/** The text of every element with this test id, in page order. */
const texts = (testid: string) => page.getByTestId(testid).allTextContents()

/**
 * Opens the page afresh and waits until it is ready, having forgotten what the browser
 * complained of so far: each scenario checks its own.
 */
async function openPlayground(): Promise<void> {
  for (const list of Object.values(problems)) list.length = 0
  await page.goto(stack.playgroundUrl)
  await page.locator('body[data-ready="true"]').waitFor()
}

/**
 * Checks that the one error answer was the function's 400 at `url`, that the browser's only
 * complaint is about it, and that the page shows no error of its own.
 */
async function expectOnlyRefusal(url: string): Promise<void> {
  expect(problems.errorResponses).toEqual([{ status: 400, url }])
  expect(problems.consoleErrors).toEqual([
    {
      text: 'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      url,
    },
  ])
  expect(problems.pageErrors).toEqual([])
  expect(problems.failedRequests).toEqual([])
  expect(await page.getByTestId('page-error').isHidden()).toBe(true)
}

describe('the playground', () => {
  it('inserts, searches, lists what the SDK answers and shows the plan, in Chromium', async () => {
    await openPlayground()
    // items first; any collection another test file left would follow it.
    const options = await page.getByTestId('collection-select').locator('option').allTextContents()
    expect(options[0]).toBe('items')
    await expect
      .poll(() => page.getByTestId('collection-info').textContent())
      .toContain('vector(3) · cosine distance')
    expect(await page.getByTestId('rows-count').textContent()).toBe('0 rows')

    // Insert through the page: the SDK, with the service_role key, to the items function.
    await page.getByTestId('insert-input').fill(JSON.stringify(tutorialPoints()))
    await page.getByTestId('insert-submit').click()
    const insertStatus = page.getByTestId('insert-status')
    await expect.poll(() => insertStatus.getAttribute('data-state')).toBe('ok')
    expect(await insertStatus.textContent()).toMatch(/^inserted 28 rows \(ids \d+…\d+\)$/)
    await expect.poll(() => page.getByTestId('rows-count').textContent()).toBe('28 rows')
    expect(await page.getByTestId('row').count()).toBe(28)
    expect(await page.getByTestId('scatter').getAttribute('data-points')).toBe('28')

    // Search through the page: the SDK, with the anon key, to match-items.
    await page.getByTestId('search-input').fill('[3,1,2]')
    await page.getByTestId('search-k').fill('4')
    await search()
    await page.getByTestId('explain-index').waitFor()

    const { data, error } = await reader.matchItems([3, 1, 2], 4)
    const expected = data?.matches
    expect(error).toBeNull()
    expect(expected!.map((match) => match.embedding)).toEqual([
      [3, 1, 2],
      [2, 1, 1],
      [3, 1, 3],
      [2, 1, 2],
    ])
    expect(await texts('result-id')).toEqual(expected!.map((match) => String(match.id)))
    expect(await texts('result-distance')).toEqual(expected!.map((match) => String(match.distance)))
    expect(await texts('result-embedding')).toEqual(
      expected!.map((match) => JSON.stringify(match.embedding)),
    )

    const scatter = page.getByTestId('scatter')
    expect(await scatter.getAttribute('data-neighbours')).toBe('4')
    expect(await scatter.getAttribute('data-query')).toBe('yes')
    expect(await scatter.getAttribute('data-mode')).toBe('raw')
    expect(await scatter.locator('canvas').count()).toBe(1)

    const explain = page.getByTestId('explain-index')
    const plan = (await page.getByTestId('explain-plan').textContent()) ?? ''
    const indexScan = plan.includes('Index Scan using items_embedding_hnsw_idx on items')
    // The panel says what the plan says. On PGlite the 28-row table has no statistics and the
    // planner takes the HNSW index, as in the tutorial; native Postgres may have analyzed it
    // (autovacuum, after the suite's many writes) and rightly prefer a sequential scan.
    expect(await explain.getAttribute('data-used')).toBe(String(indexScan))
    if (stack.embedded) {
      expect(indexScan).toBe(true)
      expect(await explain.textContent()).toBe('index used: yes · items_embedding_hnsw_idx')
    }

    await screenshot('playground.png', true)

    // A vector of the wrong dimension: the page shows the function's refusal, via the SDK.
    await page.getByTestId('insert-input').fill('[1,2,3,4]')
    await page.getByTestId('insert-submit').click()
    await expect.poll(() => insertStatus.getAttribute('data-state')).toBe('error')
    expect(await insertStatus.textContent()).toBe('expected 3 dimensions, not 4 dimension_mismatch')
    expect(await page.getByTestId('rows-count').textContent()).toBe('28 rows')

    // That refusal is the one error answer, and the browser's only complaint is about it.
    await expectOnlyRefusal(`${stack.apiUrl}/functions/v1/items`)
  })
})

describe('the playground with a collection', () => {
  /** This file's own collection: 3-dimensional, cosine, HNSW, as `collection:new` makes it. */
  const NAME = 't_pg_e2e_points'
  type Point = { group: 'odd' | 'even'; sum: number }
  const admin = createMatchboxClient({ url: stack.apiUrl, key: stack.serviceRoleKey })
  const anon = createMatchboxClient({ url: stack.apiUrl, key: stack.anonKey })

  beforeAll(async () => {
    await createCollection(sql, { name: NAME, dimensions: 3 })
    const { error } = await admin.collection<Point>(NAME).upsert(
      tutorialPoints().map((values, index) => {
        const sum = values.reduce((a, b) => a + b, 0)
        return {
          id: `pt-${String(index + 1).padStart(2, '0')}`,
          values,
          metadata: { group: sum % 2 === 1 ? 'odd' : 'even', sum },
        }
      }),
    )
    expect(error).toBeNull()
  })

  afterAll(() => dropCollection(sql, NAME))

  it('picks a collection, upserts, searches with a filter and shows the scan, in Chromium', async () => {
    await openPlayground()
    await page.getByTestId('collection-select').selectOption(NAME)
    await expect
      .poll(() => page.getByTestId('collection-info').textContent())
      .toBe(`public.${NAME}.embedding · extensions.vector(3) · cosine distance`)
    await expect.poll(() => page.getByTestId('rows-count').textContent()).toBe('28 rows')
    const firstRow = page.getByTestId('row').first()
    // Polled: `items` may hold 28 rows too, and its table stays until the collection's arrives.
    await expect
      .poll(() => firstRow.locator('td').allTextContents())
      .toEqual([
        'pt-01',
        '[1,2,3]',
        // jsonb's key order: shorter keys first.
        '{"sum":6,"group":"even"}',
      ])
    expect(await page.getByTestId('scatter').getAttribute('data-points')).toBe('28')

    // Upsert through the page: collection(name).upsert with the service_role key.
    await page.getByTestId('insert-input').fill('[3,2,1]')
    await page.getByTestId('insert-id').fill('pt-new')
    await page.getByTestId('insert-metadata').fill('{"group":"odd","sum":7}')
    await page.getByTestId('insert-submit').click()
    const insertStatus = page.getByTestId('insert-status')
    await expect.poll(() => insertStatus.getAttribute('data-state')).toBe('ok')
    expect(await insertStatus.textContent()).toBe('upserted 1 record (id pt-new)')
    await expect.poll(() => page.getByTestId('rows-count').textContent()).toBe('29 rows')

    // Search with a filter, forcing the vector index: the page's neighbours are the SDK's.
    const filter = { group: 'odd', sum: { $gte: 7 } } as const
    await page.getByTestId('search-input').fill('[3,1,2]')
    await page.getByTestId('search-k').fill('4')
    await page.getByTestId('search-filter').fill(JSON.stringify(filter))
    await page.getByTestId('search-scan').selectOption('index')
    await search()
    const viaIndex = await anon
      .collection<Point>(NAME)
      .query({ vector: [3, 1, 2], topK: 4, filter, scan: 'index' })
    expect(viaIndex.error).toBeNull()
    expect(viaIndex.data?.matches).toHaveLength(4)
    expect(viaIndex.data!.matches.every((match) => match.metadata!.group === 'odd')).toBe(true)
    expect(await texts('result-id')).toEqual(viaIndex.data!.matches.map((match) => match.id))
    expect(await texts('result-distance')).toEqual(
      viaIndex.data!.matches.map((match) => String(match.distance)),
    )
    expect(await texts('result-metadata')).toEqual(
      viaIndex.data!.matches.map((match) => JSON.stringify(match.metadata)),
    )
    const explain = page.getByTestId('explain-index')
    expect(await explain.textContent()).toBe(`index used: yes · ${NAME}_embedding_idx`)
    expect(await explain.getAttribute('data-used')).toBe('true')
    expect(await page.getByTestId('explain-scan').textContent()).toBe('scan: index')
    expect(await page.getByTestId('explain-plan').textContent()).toContain(
      `Index Scan using ${NAME}_embedding_idx on ${NAME}`,
    )
    const scatter = page.getByTestId('scatter')
    expect(await scatter.getAttribute('data-points')).toBe('29')
    expect(await scatter.getAttribute('data-neighbours')).toBe('4')
    expect(await scatter.getAttribute('data-query')).toBe('yes')
    await screenshot('playground-collection.png')

    // The same filter left to `auto`: few rows match, so an exact scan answers, and says so.
    await page.getByTestId('search-scan').selectOption('auto')
    await search()
    const auto = await anon.collection<Point>(NAME).query({ vector: [3, 1, 2], topK: 4, filter })
    expect(await texts('result-id')).toEqual(auto.data!.matches.map((match) => match.id))
    expect(await texts('result-distance')).toEqual(
      auto.data!.matches.map((match) => String(match.distance)),
    )
    expect(await explain.getAttribute('data-used')).toBe('false')
    expect(await explain.textContent()).toMatch(/^index used: no/)
    expect(await page.getByTestId('explain-scan').textContent()).toBe('scan: exact')

    // A filter the function refuses: its message, via the SDK, and nothing else breaks.
    await page.getByTestId('search-filter').fill('{"sum":{"$gtt":7}}')
    await search('error')
    expect(await page.getByTestId('search-status').textContent()).toBe(
      'filter.sum.$gtt: unknown operator "$gtt" invalid_filter',
    )

    await expectOnlyRefusal(`${stack.apiUrl}/functions/v1/vectors/${NAME}/query`)
  })
})

describe('the playground acting as a user', () => {
  /** An owner collection: each user reads and writes only their rows. */
  const NAME = 't_pg_e2e_owned'
  const ALICE = '6f1c2f3e-9a0b-4c5d-8e7f-001122334455'
  const BOB = '0b6c1d2e-3f40-4a5b-9c6d-7e8f90a1b2c3'
  const admin = createMatchboxClient({ url: stack.apiUrl, key: stack.serviceRoleKey })
  /** The collection as an app signed in as `user` sees it. */
  const asUser = async (user: string) =>
    createMatchboxClient({
      url: stack.apiUrl,
      key: stack.anonKey,
      accessToken: await userToken(user),
    }).collection(NAME)

  beforeAll(async () => {
    await dropCollection(sql, NAME)
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name: NAME, dimensions: 3, access: 'owner' })),
    )
    // Bob's b-1 is nearer to [1,0,0] than two of Alice's rows: a search that leaked other
    // users' rows would show it among hers.
    const { error } = await admin.collection(NAME).upsert([
      { id: 'a-1', values: [1, 0, 0], owner_id: ALICE, metadata: { who: 'alice' } },
      { id: 'a-2', values: [1, 1, 0], owner_id: ALICE, metadata: { who: 'alice' } },
      { id: 'a-3', values: [0, 1, 0], owner_id: ALICE, metadata: { who: 'alice' } },
      { id: 'b-1', values: [1, 0.1, 0], owner_id: BOB, metadata: { who: 'bob' } },
      { id: 'b-2', values: [0, 0, 1], owner_id: BOB, metadata: { who: 'bob' } },
      { id: 'b-3', values: [1, 0, 1], owner_id: BOB, metadata: { who: 'bob' } },
    ])
    expect(error).toBeNull()
  })

  afterAll(() => dropCollection(sql, NAME))

  it('shows only the chosen user’s rows and search results, and upserts as them, in Chromium', async () => {
    await openPlayground()
    await page.getByTestId('collection-select').selectOption(NAME)
    // service_role first: every row, with its owner.
    const rowsCount = page.getByTestId('rows-count')
    await expect.poll(() => rowsCount.textContent()).toBe('6 rows')
    expect(await texts('row-owner')).toEqual([ALICE, ALICE, ALICE, BOB, BOB, BOB])
    expect(await page.getByTestId('insert-owner').isVisible()).toBe(true)
    await screenshot('playground-owners.png')
    const identity = page.getByTestId('identity-select')
    expect(await identity.inputValue()).toBe('service_role')
    // The collection's owners are offered to act as.
    expect(await identity.locator('option').allTextContents()).toEqual([
      'service_role',
      'anon',
      // As many rows each: by id.
      'user 0b6c1d2e · 3 rows',
      'user 6f1c2f3e · 3 rows',
    ])

    // Alice: her rows, her neighbours (the SDK's, with her token), no plan.
    await identity.selectOption(`user:${ALICE}`)
    await expect.poll(() => texts('row')).toHaveLength(3)
    expect(await rowIds()).toEqual(['a-1', 'a-2', 'a-3'])
    expect(await rowsCount.textContent()).toBe('3 rows')
    expect(await page.getByTestId('row-owner').count()).toBe(0)
    // A user's rows are their own: the database sets the owner, not the form.
    expect(await page.getByTestId('insert-owner').isVisible()).toBe(false)
    expect(await page.getByTestId('search-role').textContent()).toBe('user 6f1c2f3e')
    expect(await page.getByTestId('insert-role').textContent()).toBe('user 6f1c2f3e')
    expect(await page.getByTestId('scatter').getAttribute('data-points')).toBe('3')
    await page.getByTestId('search-input').fill('[1,0,0]')
    await page.getByTestId('search-k').fill('4')
    await page.getByTestId('search-filter').fill('')
    await page.getByTestId('search-scan').selectOption('auto')
    await search()
    const alices = await (await asUser(ALICE)).query({ vector: [1, 0, 0], topK: 4 })
    expect(alices.error).toBeNull()
    expect(alices.data!.matches.map((match) => match.id)).toEqual(['a-1', 'a-2', 'a-3'])
    expect(await texts('result-id')).toEqual(['a-1', 'a-2', 'a-3'])
    expect(await texts('result-distance')).toEqual(
      alices.data!.matches.map((match) => String(match.distance)),
    )
    expect(await page.getByTestId('explain-plan').textContent()).toContain(
      'shown to service_role only',
    )
    await screenshot('playground-user.png')

    // Bob: the page reruns the search as him.
    await identity.selectOption(`user:${BOB}`)
    await expect.poll(() => rowIds()).toEqual(['b-1', 'b-2', 'b-3'])
    await expect.poll(() => texts('result-id')).toEqual(['b-1', 'b-3', 'b-2'])
    const bobs = await (await asUser(BOB)).query({ vector: [1, 0, 0], topK: 4 })
    expect(await texts('result-id')).toEqual(bobs.data!.matches.map((match) => match.id))

    // A new user, minted by the playground server: no rows, then the one they upsert, which
    // the database gives them (owner_id defaults to auth.uid()).
    await page.getByTestId('user-submit').click()
    const identityStatus = page.getByTestId('identity-status')
    await expect.poll(() => identityStatus.getAttribute('data-state')).toBe('ok')
    const newUser = (await identity.inputValue()).replace(/^user:/, '')
    expect(newUser).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    await expect.poll(() => rowsCount.textContent()).toBe('0 rows')
    expect(await texts('result-id')).toEqual([])
    await page.getByTestId('insert-input').fill('[0.5,0.5,0]')
    await page.getByTestId('insert-id').fill('c-1')
    await page.getByTestId('insert-metadata').fill('')
    await page.getByTestId('insert-submit').click()
    const insertStatus = page.getByTestId('insert-status')
    await expect.poll(() => insertStatus.getAttribute('data-state')).toBe('ok')
    await expect.poll(() => rowIds()).toEqual(['c-1'])
    await expect.poll(() => texts('result-id')).toEqual(['c-1'])
    const [stored] = await sql`select owner_id::text from ${sql(`public.${NAME}`)} where id = 'c-1'`
    expect(stored?.owner_id).toBe(newUser)

    // anon may not read an owner collection: the page says what the function said.
    await identity.selectOption('anon')
    await expect.poll(() => rowsCount.textContent()).toBe('refused')
    expect(await page.getByTestId('rows-error').textContent()).toBe(
      `"${NAME}" is private to its owners: send a user's access token (or the service_role key) forbidden`,
    )
    await expect
      .poll(() => page.getByTestId('search-status').getAttribute('data-state'))
      .toBe('error')

    // Back to service_role: every row, the new user's among them.
    await identity.selectOption('service_role')
    await expect.poll(() => rowsCount.textContent()).toBe('7 rows')
    expect(await texts('row-owner')).toContain(newUser)

    // anon's refusals (list, count, query) are the only error answers.
    const refused = new Set(problems.errorResponses.map(({ status, url }) => `${status} ${url}`))
    const route = (name: string) => `403 ${stack.apiUrl}/functions/v1/vectors/${NAME}/${name}`
    expect(refused).toEqual(new Set([route('list'), route('count'), route('query')]))
    expect(problems.pageErrors).toEqual([])
    expect(problems.failedRequests).toEqual([])
    expect(await page.getByTestId('page-error').isHidden()).toBe(true)
  })
})

describe('the playground acting as a tenant’s user', () => {
  /** A tenant collection: each user reads and writes their tenant's rows. */
  const NAME = 't_pg_e2e_team'
  const admin = createMatchboxClient({ url: stack.apiUrl, key: stack.serviceRoleKey })

  beforeAll(async () => {
    await dropCollection(sql, NAME)
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name: NAME, dimensions: 3, access: 'tenant' })),
    )
    const { error } = await admin.collection(NAME).upsert([
      { id: 'acme-1', values: [1, 0, 0], tenant_id: 'acme' },
      { id: 'acme-2', values: [0, 1, 0], tenant_id: 'acme' },
      { id: 'globex-1', values: [1, 0.1, 0], tenant_id: 'globex' },
    ])
    expect(error).toBeNull()
  })

  afterAll(() => dropCollection(sql, NAME))

  it('acts as a user of a tenant picked from the collection, or of one typed in, in Chromium', async () => {
    await openPlayground()
    await page.getByTestId('collection-select').selectOption(NAME)
    const rowsCount = page.getByTestId('rows-count')
    await expect.poll(() => rowsCount.textContent()).toBe('3 rows')
    expect(await texts('row-owner')).toEqual(['acme', 'acme', 'globex'])

    // A tenant from the collection: a new user of acme, who sees acme's rows.
    const identity = page.getByTestId('identity-select')
    const acme = identity.locator('option', { hasText: 'tenant acme · 2 rows' })
    await identity.selectOption((await acme.getAttribute('value'))!)
    await expect.poll(() => rowIds()).toEqual(['acme-1', 'acme-2'])
    expect(await page.getByTestId('search-role').textContent()).toMatch(
      /^user [0-9a-f]{8} · tenant acme$/,
    )
    await page.getByTestId('search-input').fill('[1,0,0]')
    await page.getByTestId('search-k').fill('3')
    await page.getByTestId('search-filter').fill('')
    await search()
    expect(await texts('result-id')).toEqual(['acme-1', 'acme-2'])

    // A user typed in, of globex: globex's row, and the search rerun as them.
    await page.getByTestId('user-tenant').fill('globex')
    await page.getByTestId('user-submit').click()
    await expect.poll(() => rowIds()).toEqual(['globex-1'])
    await expect.poll(() => texts('result-id')).toEqual(['globex-1'])
    expect(await page.getByTestId('identity-status').textContent()).toMatch(
      /^user [0-9a-f]{8} · tenant globex: a 1-hour token for [0-9a-f-]{36}$/,
    )

    // A user id that is no uuid: the playground server's refusal, and nothing else changes.
    await page.getByTestId('user-id').fill('alice')
    await page.getByTestId('user-submit').click()
    const identityStatus = page.getByTestId('identity-status')
    await expect.poll(() => identityStatus.getAttribute('data-state')).toBe('error')
    expect(await identityStatus.textContent()).toBe('/api/token: user: expected a user id (a uuid)')
    expect(await rowIds()).toEqual(['globex-1'])
    expect(problems.errorResponses).toEqual([
      { status: 400, url: `${stack.playgroundUrl}/api/token` },
    ])
    expect(problems.pageErrors).toEqual([])
  })
})

describe('the playground with a text collection', () => {
  /** A collection made with --text: records with a text, keyword and hybrid queries. */
  const NAME = 't_pg_e2e_docs'
  const admin = createMatchboxClient({ url: stack.apiUrl, key: stack.serviceRoleKey })
  const reader = createMatchboxClient({ url: stack.apiUrl, key: stack.anonKey }).collection(NAME)

  beforeAll(async () => {
    await dropCollection(sql, NAME)
    await sql.unsafe(
      collectionMigrationSql(parseCollectionSpec({ name: NAME, dimensions: 3, text: true })),
    )
    // d-3 is near [1,0,0] without the keyword; d-4 has the keyword far from it.
    const { error } = await admin.collection(NAME).upsert([
      { id: 'd-1', values: [1, 0, 0], text: 'pgvector indexes vectors with hnsw' },
      { id: 'd-2', values: [0, 1, 0], text: 'postgres full text search ranks documents' },
      { id: 'd-3', values: [0.9, 0.1, 0], text: 'a quiet walk in the park' },
      { id: 'd-4', values: [0, 0, 1], text: 'hnsw graphs: hnsw layers for nearest neighbours' },
    ])
    expect(error).toBeNull()
  })

  afterAll(() => dropCollection(sql, NAME))

  it('searches by keywords and hybrid, with each match’s score and both ranks, in Chromium', async () => {
    await openPlayground()
    await page.getByTestId('collection-select').selectOption(NAME)
    await expect.poll(() => page.getByTestId('rows-count').textContent()).toBe('4 rows')
    expect(await texts('row-text')).toEqual([
      'pgvector indexes vectors with hnsw',
      'postgres full text search ranks documents',
      'a quiet walk in the park',
      'hnsw graphs: hnsw layers for nearest neighbours',
    ])

    // Keywords alone: the SDK's ranking by ts_rank_cd, no distances, no vector ranks.
    await page.getByTestId('search-input').fill('')
    await page.getByTestId('search-text').fill('hnsw')
    await page.getByTestId('search-k').fill('4')
    await page.getByTestId('search-filter').fill('')
    await search()
    const keyword = await reader.query({ text: 'hnsw', topK: 4 })
    expect(keyword.error).toBeNull()
    expect(keyword.data!.matches.map((match) => match.id).sort()).toEqual(['d-1', 'd-4'])
    expect(await texts('result-id')).toEqual(keyword.data!.matches.map((match) => match.id))
    expect(await texts('result-score')).toEqual(
      keyword.data!.matches.map((match) => String(match.score)),
    )
    expect(await texts('result-text-rank')).toEqual(['1', '2'])
    expect(await texts('result-vector-rank')).toEqual(['—', '—'])
    expect(await texts('result-distance')).toEqual(['', ''])
    expect(await page.getByTestId('search-status').textContent()).toMatch(
      /^2 records for "hnsw" by keyword rank · \d+ ms$/,
    )
    expect(await page.getByTestId('explain-plan').textContent()).toBe(
      'A text search answers no plan: "explain" applies to vector queries.',
    )

    // Hybrid: keywords and a vector, fused; the near row without the keyword is found too.
    await page.getByTestId('search-input').fill('[1,0,0]')
    await search()
    const hybrid = await reader.query({ text: 'hnsw', vector: [1, 0, 0], topK: 4 })
    expect(hybrid.error).toBeNull()
    const matches = hybrid.data!.matches
    expect(matches.map((match) => match.id)).toContain('d-3')
    expect(await texts('result-id')).toEqual(matches.map((match) => match.id))
    expect(await texts('result-score')).toEqual(matches.map((match) => String(match.score)))
    expect(await texts('result-text-rank')).toEqual(
      matches.map(({ ranks }) => String(ranks.text ?? '—')),
    )
    expect(await texts('result-vector-rank')).toEqual(
      matches.map(({ ranks }) => String(ranks.vector ?? '—')),
    )
    expect(await texts('result-distance')).toEqual(
      matches.map((match) => (match.distance === undefined ? '' : String(match.distance))),
    )
    expect(await page.getByTestId('search-status').textContent()).toMatch(
      /^4 records for "hnsw" and \[1,0,0\], keyword and cosine ranks fused · \d+ ms$/,
    )
    await screenshot('playground-hybrid.png')

    // Upsert a record with a text through the page: the hybrid search reruns and finds it.
    await page.getByTestId('insert-input').fill('[0,0.5,0.5]')
    await page.getByTestId('insert-id').fill('d-5')
    await page.getByTestId('insert-text').fill('hnsw in postgres')
    await page.getByTestId('insert-submit').click()
    await expect.poll(() => page.getByTestId('insert-status').getAttribute('data-state')).toBe('ok')
    await expect.poll(() => page.getByTestId('rows-count').textContent()).toBe('5 rows')
    expect((await texts('row-text'))[4]).toBe('hnsw in postgres')
    await expect.poll(() => texts('result-id')).toContain('d-5')
    const again = await reader.query({ text: 'hnsw', vector: [1, 0, 0], topK: 4 })
    expect(await texts('result-id')).toEqual(again.data!.matches.map((match) => match.id))

    expect(problems.errorResponses).toEqual([])
    expect(problems.pageErrors).toEqual([])
  })
})

/** The ids of the rows table, in order. */
async function rowIds(): Promise<string[]> {
  return await page
    .getByTestId('row')
    .evaluateAll((rows) => rows.map((row) => row.dataset.id ?? ''))
}

/** Submits the search form and waits for its answer. */
async function search(state: 'ok' | 'error' = 'ok'): Promise<void> {
  const status = page.getByTestId('search-status')
  // Marked busy first, so that the wait below is for this search's answer, not the last one's.
  await page.getByTestId('search-submit').click()
  await expect.poll(() => status.getAttribute('data-state')).not.toBe('busy')
  expect(await status.getAttribute('data-state')).toBe(state)
}

/**
 * Saves the page as it is, once every pending frame of the scatter has been drawn; the
 * README's picture too when it is the one `forReadme` and UPDATE_SCREENSHOT=1.
 */
async function screenshot(name: string, forReadme = false): Promise<void> {
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  )
  mkdirSync(ARTIFACTS, { recursive: true })
  const image = await page.screenshot({ path: path.join(ARTIFACTS, name) })
  expect(image.byteLength).toBeGreaterThan(20_000)
  if (forReadme && process.env.UPDATE_SCREENSHOT === '1') {
    mkdirSync(path.join(ROOT, 'docs'), { recursive: true })
    await page.screenshot({ path: path.join(ROOT, 'docs', name) })
  }
}
