/** Everything the page draws: the collection's fields, the tables, the plan, the scatter. */
import { MAX_MATCH_COUNT, MAX_TOP_K } from '../../src/index.ts'
import {
  ANON,
  type Identity,
  identityKey,
  identityLabel,
  SERVICE_ROLE,
  type User,
} from './identity.ts'
import { projectTo3d } from './pca.ts'
import { type PointId, Scatter } from './scatter.ts'
import type { PageState } from './state.ts'
import type { CollectionInfo, ExplainShown, VectorValues } from './types.ts'
import { formatMetadata, formatValues, MAX_DENSE_DIMENSIONS, toNumbers } from './values.ts'
import { formatVector } from './vectors.ts'

/** Values this long or shorter stay on one line in the results (a 3-D vector, a byte of bits). */
const SHORT_VALUES = 24

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id)
  if (!found) throw new Error(`the page has no #${id}`)
  return found as T
}

/** The page's elements, by what they are for. */
export const ui = {
  collection: element<HTMLSelectElement>('collection'),
  collectionInfo: element('collection-info'),
  apiUrl: element('api-url'),
  pageError: element('page-error'),
  identity: element<HTMLSelectElement>('identity'),
  identityInfo: element('identity-info'),
  identityForm: element<HTMLFormElement>('identity-form'),
  userId: element<HTMLInputElement>('user-id'),
  userTenant: element<HTMLInputElement>('user-tenant'),
  userSubmit: element<HTMLButtonElement>('user-submit'),
  identityStatus: element<HTMLOutputElement>('identity-status'),
  insertForm: element<HTMLFormElement>('insert-form'),
  insertInput: element<HTMLTextAreaElement>('insert-input'),
  insertId: element<HTMLInputElement>('insert-id'),
  insertMetadata: element<HTMLTextAreaElement>('insert-metadata'),
  insertOwner: element<HTMLInputElement>('insert-owner'),
  insertText: element<HTMLTextAreaElement>('insert-text'),
  insertRole: element('insert-role'),
  insertSubmit: element<HTMLButtonElement>('insert-submit'),
  insertStatus: element<HTMLOutputElement>('insert-status'),
  searchForm: element<HTMLFormElement>('search-form'),
  searchRole: element('search-role'),
  searchInput: element<HTMLInputElement>('search-input'),
  searchText: element<HTMLInputElement>('search-text'),
  searchK: element<HTMLInputElement>('search-k'),
  searchFilter: element<HTMLTextAreaElement>('search-filter'),
  searchScan: element<HTMLSelectElement>('search-scan'),
  searchSubmit: element<HTMLButtonElement>('search-submit'),
  searchStatus: element<HTMLOutputElement>('search-status'),
  results: element<HTMLTableElement>('results'),
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
  ownerHead: element('owner-head'),
  refreshRows: element<HTMLButtonElement>('refresh-rows'),
}

/** The 3-D view, or undefined (and a note in its place) where the browser has no WebGL. */
export function openScatter(): Scatter | undefined {
  try {
    return new Scatter(ui.scatter)
  } catch {
    ui.scatter.classList.add('scatter-unavailable')
    ui.scatter.textContent = 'The 3-D view needs WebGL, which this browser does not offer.'
    return undefined
  }
}

/** Fills the collection picker; a single collection leaves nothing to pick. */
export function renderCollectionList(collections: readonly CollectionInfo[]): void {
  ui.collection.replaceChildren(
    ...collections.map((collection) => new Option(collection.name, collection.name)),
  )
  ui.collection.disabled = collections.length < 2
}

/** Shows the fields, limits and hints of `collection`'s kind and type. */
export function renderCollection(collection: CollectionInfo): void {
  ui.collection.value = collection.name
  // The fields a collection has and `items` has not show by this (style.css).
  document.body.dataset.kind = collection.kind
  // And the owner column and field an owner or tenant collection has, and a text collection's.
  document.body.dataset.access = collection.access
  document.body.dataset.text = String(collection.textLanguage !== null)
  const isItems = collection.kind === 'items'
  const owner = collection.access === 'tenant' ? 'tenant_id' : 'owner_id'
  ui.ownerHead.textContent = owner
  ui.insertOwner.placeholder =
    collection.access === 'tenant' ? 'tenant_id (the tenant)' : "owner_id (a user's id)"
  ui.searchK.max = String(isItems ? MAX_MATCH_COUNT : MAX_TOP_K)
  ui.insertInput.placeholder = insertPlaceholder(collection)
  for (const head of document.querySelectorAll('.values-head')) {
    head.textContent = isItems ? 'embedding' : 'values'
  }
  const metric = collection.metric ? `${collection.metric} distance` : 'no vector index'
  ui.collectionInfo.textContent = `${collection.table}.${collection.column} · ${collection.type} · ${metric}`
}

/** The rows table, the last search's neighbours marked; or why the identity may not read it. */
export function renderRows({ current, rows, rowsError, search, identity }: PageState): void {
  const near = new Set(search?.matches.map((match) => match.id))
  // Whose each row is: what service_role sees of an owner or tenant collection.
  const showOwner = current?.access !== 'public' && identity.role === 'service_role'
  ui.rowsBody.replaceChildren(
    ...rows.map((row) =>
      tableRow(
        [
          { text: String(row.id), className: 'num' },
          { text: formatValues(row.embedding), className: 'vector' },
          ...(current?.textLanguage
            ? [{ text: row.text ?? '', className: 'record-text', testid: 'row-text' }]
            : []),
          { text: formatMetadata(row.metadata), className: 'metadata only-collection' },
          ...(showOwner
            ? [{ text: row.owner ?? '', className: 'metadata', testid: 'row-owner' }]
            : []),
        ],
        { testid: 'row', id: row.id, className: near.has(row.id) ? 'near' : '' },
      ),
    ),
  )
  if (rowsError) {
    const refused = emptyRow(4, `${rowsError.message} `)
    refused.dataset.testid = 'rows-error'
    const code = document.createElement('code')
    code.textContent = rowsError.code
    refused.cells[0]!.append(code)
    ui.rowsBody.append(refused)
  } else if (rows.length === 0) {
    const whose = identity.role === 'authenticated' && current?.access !== 'public'
    ui.rowsBody.append(
      emptyRow(
        4,
        whose ? 'No rows of theirs yet: insert some vectors.' : 'No rows yet: insert some vectors.',
      ),
    )
  }
}

/** The rows count: all of them, or how many of how many were loaded; none when refused. */
export function renderRowsCount(loaded: number, total: number | undefined): void {
  if (total === undefined) {
    ui.rowsCount.textContent = 'refused'
  } else {
    ui.rowsCount.textContent = total > loaded ? `first ${loaded} of ${total}` : plural(total, 'row')
  }
}

/** The identity picker: the two keys, the users, and the shown collection's other owners. */
export function renderIdentities({ identity, users, owners, current }: PageState): void {
  const rowsOf = new Map(owners.map(({ user, rows }) => [identityKey(user), rows]))
  const option = (who: Identity) => {
    const rows = rowsOf.get(identityKey(who))
    const label = identityLabel(who)
    return new Option(
      rows === undefined ? label : `${label} · ${plural(rows, 'row')}`,
      identityKey(who),
    )
  }
  const group = (label: string, members: readonly User[]) => {
    const element = document.createElement('optgroup')
    element.label = label
    element.append(...members.map(option))
    return element
  }
  const known = new Set(users.map(identityKey))
  const others = owners.map(({ user }) => user).filter((user) => !known.has(identityKey(user)))
  const whose = current?.access === 'tenant' ? 'tenants' : 'owners'
  ui.identity.replaceChildren(
    option(SERVICE_ROLE),
    option(ANON),
    ...(users.length > 0 ? [group('users', users)] : []),
    ...(others.length > 0 ? [group(`${whose} in ${current?.name ?? ''}`, others)] : []),
  )
  ui.identity.value = identityKey(identity)
}

/** Who the page acts as, on the role badges and beside the picker. */
export function renderIdentity({ identity }: PageState): void {
  document.body.dataset.role = identity.role
  const label = identityLabel(identity)
  ui.insertRole.textContent = label
  ui.searchRole.textContent = label
  ui.identityInfo.textContent =
    identity.role === 'service_role'
      ? 'every row, and the plan of each search'
      : identity.role === 'anon'
        ? 'the anon key: a visitor, signed in as no one'
        : `the anon key and ${identity.user}'s access token`
}

/** The results table of the last search; a text search's with each match's score and ranks. */
export function renderResults({ search }: PageState): void {
  const isText = search?.text !== undefined
  ui.results.dataset.text = String(isText)
  if (!search) {
    ui.resultsBody.replaceChildren(emptyRow(8, 'Search to see the nearest rows.'))
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
            text: match.distance === undefined ? '' : String(match.distance),
            className: 'num vector nowrap',
            testid: 'result-distance',
          },
          ...(isText
            ? [
                {
                  text: match.score === undefined ? '' : String(match.score),
                  className: 'num vector nowrap',
                  testid: 'result-score',
                },
                // A match's place on each side; a dash where that side did not find it.
                {
                  text: String(match.ranks?.text ?? '—'),
                  className: 'num',
                  testid: 'result-text-rank',
                },
                {
                  text: String(match.ranks?.vector ?? '—'),
                  className: 'num',
                  testid: 'result-vector-rank',
                },
              ]
            : []),
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
  if (search.matches.length === 0) ui.resultsBody.append(emptyRow(8, 'No rows to match.'))
}

/**
 * The EXPLAIN panel: the plan, whether the vector index served it, and the scan; or `note`
 * (why there is none) in its place.
 */
export function renderPlan(explained: ExplainShown | undefined, note?: string): void {
  ui.explainIndex.hidden = !explained
  ui.explainScan.hidden = !explained?.scan
  if (!explained) {
    ui.explainPlan.textContent = note ?? "The plan of the last search's query appears here."
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
export function renderScatter(scatter: Scatter | undefined, state: PageState): void {
  const { current, rows, search } = state
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
    query = search?.query === undefined ? undefined : toNumbers(search.query)
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

/** Shows a form's state and message, with the function's error code when it refused. */
export function status(
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

/** Empties a form's status. */
export function clearStatus(output: HTMLOutputElement): void {
  delete output.dataset.state
  output.textContent = ''
}

/** Shows an error in `output`, and answers false for the caller to return. */
export function failed(output: HTMLOutputElement, message: string, code?: string): false {
  status(output, 'error', message, code)
  return false
}

/** Disables `button` until `work` settles. */
export async function busy<T>(button: HTMLButtonElement, work: Promise<T>): Promise<T> {
  button.disabled = true
  try {
    return await work
  } finally {
    button.disabled = false
  }
}

/** The banner for a failure of the playground server's own routes; undefined hides it. */
export function renderPageError(error: unknown): void {
  ui.pageError.hidden = error === undefined
  if (error !== undefined) {
    ui.pageError.textContent = error instanceof Error ? error.message : String(error)
  }
}

/** Values as the search field takes them back: bits bare, anything else as JSON. */
export function valuesText(values: VectorValues): string {
  return typeof values === 'string' ? values : JSON.stringify(values)
}

/** New rows' ids as the insert's status names them: `id 7`, or `ids 7…9`. */
export function idRange(ids: readonly PointId[]): string {
  return ids.length > 1 ? `ids ${ids[0]}…${ids.at(-1)}` : `id ${ids[0]}`
}

/** `1 row`, `2 rows`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`
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
