/**
 * The playground page: pick a collection, see its rows and their 3-D scatter, insert
 * vectors, search, and see the neighbours and the plan of the search.
 *
 * Inserts and searches go through the SDK to the edge functions, as an app's would: for
 * `items`, the service_role key to insert and the anon key to search; for a collection,
 * the service_role key for both (its search asks for its plan, which only service_role may
 * see). The playground server only lends the keys and the reads the SDK has no call for.
 */
import './jitless.ts'
import {
  createMatchboxClient,
  MAX_MATCH_COUNT,
  MAX_TOP_K,
  type MatchboxClient,
  type MatchboxResult,
} from '../../src/index.ts'
import { Transport } from '../../src/transport.ts'
import {
  QueryRequest,
  type QueryResponse,
  type VectorValuesInput,
} from '../../supabase/functions/_shared/vectors-contract.ts'
import { projectTo3d } from './pca.ts'
import { indexUse } from './plan.ts'
import { type PointId, Scatter } from './scatter.ts'
import type {
  CollectionInfo,
  CollectionsResponse,
  ErrorBody,
  ExplainRequest,
  ExplainResponse,
  ExplainShown,
  PlaygroundConfig,
  Row,
  RowsResponse,
  VectorValues,
} from './types.ts'
import {
  formatMetadata,
  formatValues,
  MAX_DENSE_DIMENSIONS,
  parseJsonObject,
  parseRecordValues,
  parseValues,
  recordIds,
  toNumbers,
} from './values.ts'
import { formatVector, parseVector, parseVectors } from './vectors.ts'

/** Values this long or shorter stay on one line in the results (a 3-D vector, a byte of bits). */
const SHORT_VALUES = 24

/** One neighbour of the last search, from either API. */
interface Neighbour {
  id: PointId
  distance: number
  values?: VectorValues
  metadata?: Record<string, unknown>
}

/** The last search, kept so that the scatter and the rows table can show it, and rerun. */
interface Search {
  query: VectorValuesInput
  count: number
  /** A collection's search only: its filter and scan. */
  filter?: Record<string, unknown>
  scan?: 'auto' | 'index' | 'exact'
  matches: Neighbour[]
}

/** What a person typed for one collection, kept while they look at another. */
interface Draft {
  search: string
  filter: string
}

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id)
  if (!found) throw new Error(`the page has no #${id}`)
  return found as T
}

const ui = {
  collection: element<HTMLSelectElement>('collection'),
  collectionInfo: element('collection-info'),
  apiUrl: element('api-url'),
  pageError: element('page-error'),
  insertForm: element<HTMLFormElement>('insert-form'),
  insertInput: element<HTMLTextAreaElement>('insert-input'),
  insertId: element<HTMLInputElement>('insert-id'),
  insertMetadata: element<HTMLTextAreaElement>('insert-metadata'),
  insertSubmit: element<HTMLButtonElement>('insert-submit'),
  insertStatus: element<HTMLOutputElement>('insert-status'),
  searchForm: element<HTMLFormElement>('search-form'),
  searchRole: element('search-role'),
  searchInput: element<HTMLInputElement>('search-input'),
  searchK: element<HTMLInputElement>('search-k'),
  searchFilter: element<HTMLTextAreaElement>('search-filter'),
  searchScan: element<HTMLSelectElement>('search-scan'),
  searchSubmit: element<HTMLButtonElement>('search-submit'),
  searchStatus: element<HTMLOutputElement>('search-status'),
  resultsBody: element<HTMLTableSectionElement>('results-body'),
  explainIndex: element('explain-index'),
  explainScan: element('explain-scan'),
  explainPlan: element('explain-plan'),
  scatter: element('scatter'),
  scatterNote: element('scatter-note'),
  projection: element('projection'),
  resetView: element<HTMLButtonElement>('reset-view'),
  rowsCount: element('rows-count'),
  rowsBody: element<HTMLTableSectionElement>('rows-body'),
  refreshRows: element<HTMLButtonElement>('refresh-rows'),
}

/** service_role: inserts everywhere, and a collection's searches (see queryWithPlan). */
let admin: MatchboxClient
/** anon: `items` searches, as an app's visitors would make them. */
let reader: MatchboxClient
/** service_role, for a collection query with its plan. */
let explainer: Transport
let collections: CollectionInfo[] = []
let current: CollectionInfo | undefined
let rows: Row[] = []
let search: Search | undefined
let scatter: Scatter | undefined
const drafts = new Map<string, Draft>()

/** A GET or POST to the playground server; its `{"error"}` answers become thrown errors. */
async function api<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(
    path,
    body === undefined
      ? undefined
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  )
  const answer = (await response.json()) as T | ErrorBody
  if (!response.ok) {
    const { error } = answer as ErrorBody
    throw new Error(`${path}: ${error?.message ?? `HTTP ${response.status}`}`)
  }
  return answer as T
}

async function start(): Promise<void> {
  const config = await api<PlaygroundConfig>('/config.json')
  ui.apiUrl.textContent = config.apiUrl
  admin = createMatchboxClient({ url: config.apiUrl, key: config.serviceRoleKey })
  reader = createMatchboxClient({ url: config.apiUrl, key: config.anonKey })
  explainer = new Transport({ url: config.apiUrl, key: config.serviceRoleKey })
  try {
    scatter = new Scatter(ui.scatter)
  } catch {
    ui.scatter.classList.add('scatter-unavailable')
    ui.scatter.textContent = 'The 3-D view needs WebGL, which this browser does not offer.'
  }

  ;({ collections } = await api<CollectionsResponse>('/api/collections'))
  ui.collection.replaceChildren(
    ...collections.map((collection) => new Option(collection.name, collection.name)),
  )
  ui.collection.disabled = collections.length < 2
  if (collections.length === 0) {
    throw new Error('no collections: have the migrations been applied? (`npm start` applies them)')
  }
  const wanted = decodeURIComponent(location.hash.slice(1))
  await selectCollection(collections.some((c) => c.name === wanted) ? wanted : collections[0]!.name)

  ui.collection.addEventListener('change', () => void guard(selectCollection(ui.collection.value)))
  // A link or the address bar naming another collection changes only the fragment: no reload.
  addEventListener('hashchange', () => {
    const name = decodeURIComponent(location.hash.slice(1))
    if (name !== current?.name) void guard(selectCollection(name))
  })
  ui.insertForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void guard(insert())
  })
  ui.searchForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void guard(runSearch())
  })
  ui.refreshRows.addEventListener('click', () => void guard(loadRows()))
  ui.resetView.addEventListener('click', () => scatter?.resetView())
  ui.rowsBody.addEventListener('click', (event) => {
    const row = (event.target as HTMLElement).closest<HTMLTableRowElement>('tr[data-id]')
    const found = row && rows.find((r) => String(r.id) === row.dataset.id)
    if (!found) return
    ui.searchInput.value = valuesText(found.embedding)
    void guard(runSearch())
  })
  document.body.dataset.ready = 'true'
}

async function selectCollection(name: string): Promise<void> {
  const next = collections.find((collection) => collection.name === name)
  if (!next) return
  if (current) {
    drafts.set(current.name, { search: ui.searchInput.value, filter: ui.searchFilter.value })
  }
  current = next
  ui.collection.value = name
  history.replaceState(null, '', `#${encodeURIComponent(name)}`)
  search = undefined
  // The fields a collection has and `items` has not show by this (style.css).
  document.body.dataset.kind = next.kind
  const isItems = next.kind === 'items'
  ui.searchRole.textContent = isItems ? 'anon' : 'service_role'
  ui.searchRole.title = isItems
    ? 'searches use the anon key'
    : "a collection's search asks for its plan (explain), which needs the service_role key"
  ui.searchK.max = String(isItems ? MAX_MATCH_COUNT : MAX_TOP_K)
  ui.insertInput.placeholder = insertPlaceholder(next)
  for (const head of document.querySelectorAll('.values-head')) {
    head.textContent = isItems ? 'embedding' : 'values'
  }
  const draft = drafts.get(name)
  ui.searchInput.value = draft?.search ?? (isItems ? ui.searchInput.defaultValue : '')
  ui.searchFilter.value = draft?.filter ?? ''
  // What the last insert and search said was about the collection shown before.
  clearStatus(ui.insertStatus)
  clearStatus(ui.searchStatus)
  renderResults()
  renderPlan(undefined)
  describe(next)
  await loadRows()
  // A first query to start from: the first row's own values, when the collection has rows.
  if (!draft && !isItems && rows[0]) ui.searchInput.value = valuesText(rows[0].embedding)
}

function describe(collection: CollectionInfo): void {
  const metric = collection.metric ? `${collection.metric} distance` : 'no vector index'
  ui.collectionInfo.textContent = `${collection.table}.${collection.column} · ${collection.type} · ${metric}`
}

async function loadRows(): Promise<void> {
  const collection = current
  if (!collection) return
  const answer = await api<RowsResponse>(
    `/api/rows?collection=${encodeURIComponent(collection.name)}`,
  )
  // Another collection picked meanwhile: these rows are no longer the ones to show.
  if (current !== collection) return
  rows = answer.rows
  ui.rowsCount.textContent =
    answer.total > rows.length
      ? `first ${rows.length} of ${answer.total}`
      : plural(answer.total, 'row')
  renderRows()
  draw()
}

async function insert(): Promise<void> {
  if (!current) return
  const stored = current.kind === 'items' ? await insertItems() : await upsertRecords(current)
  if (!stored) return
  await loadRows()
  // The neighbours shown must stay true: new rows may be nearer than the old ones.
  if (search) await runSearch(search)
}

/** Inserts the typed vectors into `items`; whether it did. */
async function insertItems(): Promise<boolean> {
  let vectors: number[][]
  try {
    vectors = parseVectors(ui.insertInput.value)
  } catch (error) {
    return failed(ui.insertStatus, (error as Error).message)
  }
  status(ui.insertStatus, 'busy', `inserting ${plural(vectors.length, 'vector')}…`)
  const { data: ids, error } = await busy(ui.insertSubmit, admin.items.insertItems(vectors))
  if (error) return failed(ui.insertStatus, error.message, error.code)
  status(ui.insertStatus, 'ok', `inserted ${plural(ids.length, 'row')} (${idRange(ids)})`)
  return true
}

/** Upserts the typed record(s) into a collection; whether it did. */
async function upsertRecords(collection: CollectionInfo): Promise<boolean> {
  let records
  try {
    const values = parseRecordValues(ui.insertInput.value, collection.vectorType)
    const metadata = parseJsonObject(ui.insertMetadata.value, 'metadata')
    const ids = recordIds(ui.insertId.value, values.length)
    records = values.map((value, index) => ({
      id: ids[index]!,
      values: value,
      ...(metadata ? { metadata } : {}),
    }))
  } catch (error) {
    return failed(ui.insertStatus, (error as Error).message)
  }
  status(ui.insertStatus, 'busy', `upserting ${plural(records.length, 'record')}…`)
  const { error } = await busy(ui.insertSubmit, admin.collection(collection.name).upsert(records))
  if (error) return failed(ui.insertStatus, error.message, error.code)
  const ids = records.map((record) => record.id)
  status(ui.insertStatus, 'ok', `upserted ${plural(ids.length, 'record')} (${idRange(ids)})`)
  return true
}

/** Searches with the form's input, or reruns `again` (after an insert). */
async function runSearch(again?: Search): Promise<void> {
  if (!current) return
  if (current.kind === 'items') await searchItems(current, again)
  else await searchCollection(current, again)
}

async function searchItems(collection: CollectionInfo, again?: Search): Promise<void> {
  let query: number[]
  try {
    query = again ? (again.query as number[]) : parseVector(ui.searchInput.value)
  } catch (error) {
    return status(ui.searchStatus, 'error', (error as Error).message)
  }
  const count = again?.count ?? Number(ui.searchK.value)
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const { data, error } = await busy(ui.searchSubmit, reader.items.matchItems(query, count))
  if (current !== collection) return
  if (error) return searchFailed(error.message, error.code)
  const took = Math.round(performance.now() - started)
  const matches = data.map(({ id, distance, embedding }) => ({ id, distance, values: embedding }))
  showSearch(
    { query, count, matches },
    `${plural(matches.length, 'nearest row')} to ${formatVector(query)} by ${collection.metric ?? 'vector'} distance · ${took} ms`,
  )
  const request: ExplainRequest = { collection: collection.name, embedding: query, count }
  const explained = await api<ExplainResponse>('/api/explain', request)
  // Another search or another collection since: this plan is not of the search shown.
  if (search?.query === query) renderPlan(explained)
}

async function searchCollection(collection: CollectionInfo, again?: Search): Promise<void> {
  let query: VectorValuesInput
  let filter: Record<string, unknown> | undefined
  try {
    query = again?.query ?? parseValues(ui.searchInput.value, collection.vectorType)
    filter = again ? again.filter : parseJsonObject(ui.searchFilter.value, 'filter')
  } catch (error) {
    return status(ui.searchStatus, 'error', (error as Error).message)
  }
  const count = again?.count ?? Number(ui.searchK.value)
  const scan = again?.scan ?? (ui.searchScan.value as Search['scan'])
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const { data, error } = await busy(
    ui.searchSubmit,
    queryWithPlan(collection.name, {
      vector: query,
      topK: count,
      includeValues: true,
      explain: true,
      ...(filter ? { filter } : {}),
      scan,
    }),
  )
  if (current !== collection) return
  if (error) return searchFailed(error.message, error.code)
  const took = Math.round(performance.now() - started)
  const matches = data.matches
  showSearch(
    { query, count, filter, scan, matches },
    `${plural(matches.length, 'nearest record')} to ${formatValues(query, 4)} by ${collection.metric ?? 'vector'} distance${filter ? ', filtered' : ''} · ${took} ms`,
  )
  const plan = data.plan ?? []
  renderPlan({ plan, ...indexUse(plan, collection.index), scan: data.scan })
}

/**
 * A collection query that also answers how it ran (`scan`) and its plan (`plan`).
 *
 * The SDK's `collection(name).query` returns the matches alone (its input has no `explain`,
 * and it keeps only `matches` of the answer), so the page makes the same call through the
 * SDK's own transport: the same path, the same request schema checked first, the same
 * MatchboxErrors. One request, so the plan is that of the statement that answered.
 *
 * With the service_role key, which `explain` needs: the page is a local development tool on
 * loopback, like Studio, which holds that key too.
 */
function queryWithPlan(
  name: string,
  query: QueryRequest,
): Promise<MatchboxResult<QueryResponse<Record<string, unknown>>>> {
  return explainer.call(`vectors/${encodeURIComponent(name)}/query`, {
    method: 'POST',
    schema: QueryRequest,
    body: query,
  })
}

function showSearch(found: Search, message: string): void {
  search = found
  status(ui.searchStatus, 'ok', message)
  renderResults()
  renderRows()
  draw()
}

function searchFailed(message: string, code: string): void {
  search = undefined
  renderResults()
  renderRows()
  draw()
  status(ui.searchStatus, 'error', message, code)
}

function renderRows(): void {
  const near = new Set(search?.matches.map((match) => match.id))
  ui.rowsBody.replaceChildren(
    ...rows.map((row) =>
      tableRow(
        [
          { text: String(row.id), className: 'num' },
          { text: formatValues(row.embedding), className: 'vector' },
          { text: formatMetadata(row.metadata), className: 'metadata only-collection' },
        ],
        { testid: 'row', id: row.id, className: near.has(row.id) ? 'near' : '' },
      ),
    ),
  )
  if (rows.length === 0) {
    ui.rowsBody.append(emptyRow(3, 'No rows yet: insert some vectors.'))
  }
}

function renderResults(): void {
  if (!search) {
    ui.resultsBody.replaceChildren(emptyRow(5, 'Search to see the nearest rows.'))
    return
  }
  ui.resultsBody.replaceChildren(
    ...search.matches.map((match, rank) => {
      const shownValues = match.values === undefined ? '' : formatValues(match.values)
      return tableRow(
        [
          { text: String(rank + 1), className: 'num muted' },
          { text: String(match.id), className: 'num nowrap', testid: 'result-id' },
          {
            text: shownValues,
            className: shownValues.length <= SHORT_VALUES ? 'vector nowrap' : 'vector',
            testid: 'result-embedding',
          },
          // Every digit: the distance as the function returned it, to compare with the SDK.
          {
            text: String(match.distance),
            className: 'num vector nowrap',
            testid: 'result-distance',
          },
          {
            text: formatMetadata(match.metadata),
            className: 'metadata only-collection',
            testid: 'result-metadata',
          },
        ],
        { testid: 'result', id: match.id },
      )
    }),
  )
  if (search.matches.length === 0) ui.resultsBody.append(emptyRow(5, 'No rows to match.'))
}

function renderPlan(explained: ExplainShown | undefined): void {
  ui.explainIndex.hidden = !explained
  ui.explainScan.hidden = !explained?.scan
  if (!explained) {
    ui.explainPlan.textContent = "The plan of the last search's query appears here."
    return
  }
  // A collection's exact scan may read its metadata index by bitmap, which is no "sequential
  // scan"; the scan badge says which way it went.
  const otherwise = explained.scan ? '' : ' · sequential scan'
  ui.explainIndex.textContent = explained.indexUsed
    ? `index used: yes · ${explained.index}`
    : `index used: no${explained.index ? ` · ${explained.index}` : otherwise}`
  ui.explainIndex.dataset.used = String(explained.indexUsed)
  ui.explainScan.textContent = `scan: ${explained.scan ?? ''}`
  ui.explainPlan.textContent = explained.plan.join('\n')
}

/** Redraws the scatter: the rows, and the last search's query and neighbours. */
function draw(): void {
  if (!current) return
  const tooWide = current.vectorType === 'sparsevec' && current.dimensions > MAX_DENSE_DIMENSIONS
  ui.scatter.hidden = tooWide
  ui.scatterNote.hidden = !tooWide
  if (tooWide) {
    // Emptied, so that it holds nothing of the collection shown before.
    scatter?.show({ points: [], neighbours: [], axes: ['x', 'y', 'z'], showOrigin: false })
    ui.scatter.dataset.mode = 'none'
    ui.projection.textContent = ''
    ui.scatterNote.textContent = `${current.dimensions}-dimensional sparse vectors: the scatter draws sparse vectors of at most ${MAX_DENSE_DIMENSIONS} dimensions. Rows, inserts and searches work as usual.`
    return
  }
  // As numbers: bits as 0 and 1, sparse vectors written out. A neighbour past the rows
  // loaded still belongs in the picture.
  const byId = new Map<PointId, number[]>()
  for (const row of rows) byId.set(row.id, toNumbers(row.embedding))
  for (const match of search?.matches ?? []) {
    if (match.values !== undefined) byId.set(match.id, toNumbers(match.values))
  }
  const ids = [...byId.keys()]
  const vectors = [...byId.values()]
  let query: number[] | undefined
  try {
    query = search ? toNumbers(search.query) : undefined
  } catch {
    // Values the function refused are no point to draw.
  }
  let projection
  try {
    projection = projectTo3d(vectors, query ? [query] : [])
  } catch {
    // Vectors of mixed lengths (a query of the wrong dimension): draw the rows alone.
    query = undefined
    projection = projectTo3d(vectors)
  }
  const [placed] = query ? projection.extras : []
  if (projection.mode === 'raw') {
    ui.projection.textContent = `${current.dimensions}-D, as stored`
  } else {
    const shown = projection.explained.reduce((a, b) => a + b, 0)
    ui.projection.textContent = `${current.dimensions}-D → 3-D by PCA · ${percent(shown)} of the variance`
  }
  scatter?.show({
    points: ids.map((id, index) => ({
      id,
      position: projection.points[index]!,
      embedding: vectors[index]!,
    })),
    query: placed,
    neighbours: search?.matches.map((match) => match.id) ?? [],
    axes:
      projection.mode === 'raw'
        ? ['x', 'y', 'z']
        : ([0, 1, 2].map(
            (axis) => `PC${axis + 1} · ${percent(projection.explained[axis] ?? 0)}`,
          ) as [string, string, string]),
    showOrigin: projection.mode === 'raw',
  })
  ui.scatter.dataset.mode = projection.mode
}

/** Values as the search field takes them back: bits bare, anything else as JSON. */
function valuesText(values: VectorValues): string {
  return typeof values === 'string' ? values : JSON.stringify(values)
}

/** What the insert field takes for this collection, as an example. */
function insertPlaceholder(collection: CollectionInfo): string {
  const { dimensions } = collection
  switch (collection.kind === 'items' ? 'items' : collection.vectorType) {
    case 'items':
      return '[1,2,3]  or  [[1,2,3],[1,1,1]]'
    case 'vector':
    case 'halfvec': {
      if (dimensions > 6) return `[0.1,-0.2,…] (${dimensions} numbers)  or  a list of them`
      const one = Array.from({ length: dimensions }, (_, i) => i + 1)
      const other = one.map(() => 1)
      return `${formatVector(one)}  or  [${formatVector(one)},${formatVector(other)}]`
    }
    case 'bit': {
      if (dimensions > 32) return `0101… (${dimensions} bits)  or  ["0101…","1100…"]`
      const bits = '01'.repeat(dimensions).slice(0, dimensions)
      return `${bits}  or  ["${bits}","${'1'.repeat(dimensions)}"]`
    }
    case 'sparsevec':
      return `{"indices":[0],"values":[1],"dimensions":${dimensions}}  or  a list of them`
  }
}

function tableRow(
  cells: { text: string; className?: string; testid?: string }[],
  options: { testid: string; id: PointId; className?: string },
): HTMLTableRowElement {
  const tr = document.createElement('tr')
  tr.dataset.testid = options.testid
  tr.dataset.id = String(options.id)
  if (options.className) tr.className = options.className
  for (const cell of cells) {
    const td = tr.insertCell()
    td.textContent = cell.text
    if (cell.className) td.className = cell.className
    if (cell.testid) td.dataset.testid = cell.testid
  }
  return tr
}

function emptyRow(columns: number, text: string): HTMLTableRowElement {
  const tr = document.createElement('tr')
  tr.className = 'empty'
  const td = tr.insertCell()
  td.colSpan = columns
  td.textContent = text
  return tr
}

function status(
  output: HTMLOutputElement,
  state: 'ok' | 'error' | 'busy',
  message: string,
  code?: string,
): void {
  output.dataset.state = state
  output.textContent = message
  if (code) {
    const tag = document.createElement('code')
    tag.textContent = code
    output.append(' ', tag)
  }
}

function clearStatus(output: HTMLOutputElement): void {
  delete output.dataset.state
  output.textContent = ''
}

/** Shows an error in `output`, and answers false for the caller to return. */
function failed(output: HTMLOutputElement, message: string, code?: string): false {
  status(output, 'error', message, code)
  return false
}

async function busy<T>(button: HTMLButtonElement, work: Promise<T>): Promise<T> {
  button.disabled = true
  try {
    return await work
  } finally {
    button.disabled = false
  }
}

/** Runs a handler; a failure of the playground server's own routes shows in the banner. */
async function guard(work: Promise<void>): Promise<void> {
  try {
    await work
    ui.pageError.hidden = true
  } catch (error) {
    ui.pageError.textContent = error instanceof Error ? error.message : String(error)
    ui.pageError.hidden = false
  }
}

/** New rows' ids as the insert's status names them: `id 7`, or `ids 7…9`. */
function idRange(ids: readonly PointId[]): string {
  return ids.length > 1 ? `ids ${ids[0]}…${ids.at(-1)}` : `id ${ids[0]}`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`
}

void guard(start())
