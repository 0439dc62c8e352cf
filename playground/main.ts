/**
 * The playground page: pick a collection, see its rows and their 3-D scatter, insert
 * vectors, search, and see the neighbours and the plan of the search.
 *
 * Inserts and searches go through the SDK to the edge functions, as an app's would (the
 * service_role key to insert, the anon key to search); the playground server only lends the
 * keys and the reads the SDK has no call for.
 */
import './jitless.ts'
import { createItemsClient, type ItemsClient, type Match } from '../src/index.ts'
import { projectTo3d } from './pca.ts'
import { Scatter } from './scatter.ts'
import type {
  CollectionInfo,
  CollectionsResponse,
  ErrorBody,
  ExplainRequest,
  ExplainResponse,
  PlaygroundConfig,
  Row,
  RowsResponse,
} from './types.ts'
import { formatVector, parseVector, parseVectors } from './vectors.ts'

/** The last search, kept so that the scatter and the rows table can show it. */
interface Search {
  query: number[]
  count: number
  matches: Match[]
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
  insertSubmit: element<HTMLButtonElement>('insert-submit'),
  insertStatus: element<HTMLOutputElement>('insert-status'),
  searchForm: element<HTMLFormElement>('search-form'),
  searchInput: element<HTMLInputElement>('search-input'),
  searchK: element<HTMLInputElement>('search-k'),
  searchSubmit: element<HTMLButtonElement>('search-submit'),
  searchStatus: element<HTMLOutputElement>('search-status'),
  resultsBody: element<HTMLTableSectionElement>('results-body'),
  explainIndex: element('explain-index'),
  explainPlan: element('explain-plan'),
  scatter: element('scatter'),
  projection: element('projection'),
  resetView: element<HTMLButtonElement>('reset-view'),
  rowsCount: element('rows-count'),
  rowsBody: element<HTMLTableSectionElement>('rows-body'),
  refreshRows: element<HTMLButtonElement>('refresh-rows'),
}

let admin: ItemsClient
let reader: ItemsClient
let collections: CollectionInfo[] = []
let current: CollectionInfo | undefined
let rows: Row[] = []
let search: Search | undefined
let scatter: Scatter | undefined

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
  admin = createItemsClient({ url: config.apiUrl, key: config.serviceRoleKey })
  reader = createItemsClient({ url: config.apiUrl, key: config.anonKey })
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
    ui.searchInput.value = formatVector(found.embedding)
    void guard(runSearch())
  })
  document.body.dataset.ready = 'true'
}

async function selectCollection(name: string): Promise<void> {
  current = collections.find((collection) => collection.name === name)
  if (!current) return
  ui.collection.value = name
  history.replaceState(null, '', `#${encodeURIComponent(name)}`)
  search = undefined
  renderResults()
  renderPlan(undefined)
  describe(current)
  await loadRows()
}

function describe(collection: CollectionInfo): void {
  const metric = collection.metric ? `${collection.metric} distance` : 'no vector index'
  ui.collectionInfo.textContent = `${collection.table}.${collection.column} · ${collection.type} · ${metric}`
}

async function loadRows(): Promise<void> {
  if (!current) return
  const answer = await api<RowsResponse>(`/api/rows?collection=${encodeURIComponent(current.name)}`)
  rows = answer.rows
  ui.rowsCount.textContent =
    answer.total > rows.length
      ? `first ${rows.length} of ${answer.total}`
      : plural(answer.total, 'row')
  renderRows()
  draw()
}

async function insert(): Promise<void> {
  let vectors: number[][]
  try {
    vectors = parseVectors(ui.insertInput.value)
  } catch (error) {
    return status(ui.insertStatus, 'error', (error as Error).message)
  }
  status(ui.insertStatus, 'busy', `inserting ${plural(vectors.length, 'vector')}…`)
  const { data: ids, error } = await busy(ui.insertSubmit, admin.insertItems(vectors))
  if (error) return status(ui.insertStatus, 'error', error.message, error.code)
  const range = ids.length > 1 ? `ids ${ids[0]}…${ids.at(-1)}` : `id ${ids[0]}`
  status(ui.insertStatus, 'ok', `inserted ${plural(ids.length, 'row')} (${range})`)
  await loadRows()
  // The neighbours shown must stay true: new rows may be nearer than the old ones.
  if (search) await runSearch(search.query, search.count)
}

async function runSearch(query?: number[], count?: number): Promise<void> {
  if (!current) return
  try {
    query ??= parseVector(ui.searchInput.value)
  } catch (error) {
    return status(ui.searchStatus, 'error', (error as Error).message)
  }
  count ??= Number(ui.searchK.value)
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const { data: matches, error } = await busy(ui.searchSubmit, reader.matchItems(query, count))
  if (error) {
    search = undefined
    renderResults()
    draw()
    return status(ui.searchStatus, 'error', error.message, error.code)
  }
  const took = Math.round(performance.now() - started)
  search = { query, count, matches }
  status(
    ui.searchStatus,
    'ok',
    `${plural(matches.length, 'nearest row')} to ${formatVector(query)} by ${current.metric ?? 'vector'} distance · ${took} ms`,
  )
  renderResults()
  renderRows()
  draw()
  const request: ExplainRequest = { collection: current.name, embedding: query, count }
  renderPlan(await api<ExplainResponse>('/api/explain', request))
}

function renderRows(): void {
  const near = new Set(search?.matches.map((match) => match.id))
  ui.rowsBody.replaceChildren(
    ...rows.map((row) =>
      tableRow(
        [
          { text: String(row.id), className: 'num' },
          { text: formatVector(row.embedding), className: 'vector' },
        ],
        { testid: 'row', id: row.id, className: near.has(row.id) ? 'near' : '' },
      ),
    ),
  )
  if (rows.length === 0) {
    ui.rowsBody.append(emptyRow(2, 'No rows yet: insert some vectors.'))
  }
}

function renderResults(): void {
  if (!search) {
    ui.resultsBody.replaceChildren(emptyRow(4, 'Search to see the nearest rows.'))
    return
  }
  ui.resultsBody.replaceChildren(
    ...search.matches.map((match, rank) =>
      tableRow(
        [
          { text: String(rank + 1), className: 'num muted' },
          { text: String(match.id), className: 'num', testid: 'result-id' },
          { text: formatVector(match.embedding), className: 'vector', testid: 'result-embedding' },
          // Every digit: the distance as the function returned it, to compare with the SDK.
          { text: String(match.distance), className: 'num vector', testid: 'result-distance' },
        ],
        { testid: 'result', id: match.id },
      ),
    ),
  )
  if (search.matches.length === 0) ui.resultsBody.append(emptyRow(4, 'No rows to match.'))
}

function renderPlan(explained: ExplainResponse | undefined): void {
  ui.explainIndex.hidden = !explained
  if (!explained) {
    ui.explainPlan.textContent = "The plan of the last search's query appears here."
    return
  }
  ui.explainIndex.textContent = explained.indexUsed
    ? `index used: yes · ${explained.index}`
    : `index used: no${explained.index ? ` · ${explained.index}` : ' · sequential scan'}`
  ui.explainIndex.dataset.used = String(explained.indexUsed)
  ui.explainPlan.textContent = explained.plan.join('\n')
}

/** Redraws the scatter: the rows, and the last search's query and neighbours. */
function draw(): void {
  if (!current) return
  // A neighbour past the rows loaded still belongs in the picture.
  const byId = new Map(rows.map((row) => [row.id, row.embedding]))
  for (const match of search?.matches ?? []) byId.set(match.id, match.embedding)
  const ids = [...byId.keys()]
  const vectors = [...byId.values()]
  let projection
  try {
    projection = projectTo3d(vectors, search ? [search.query] : [])
  } catch {
    // Vectors of mixed lengths (a query of the wrong dimension): draw the rows alone.
    projection = projectTo3d(vectors)
  }
  const [query] = search ? projection.extras : []
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
    query,
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

function tableRow(
  cells: { text: string; className?: string; testid?: string }[],
  options: { testid: string; id: number; className?: string },
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

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`
}

void guard(start())
