/**
 * What the page does when a person acts: pick a collection or who to act as, add a user,
 * load rows, insert, search.
 */
import type { VectorValuesInput } from '../../src/index.ts'
import { type Api, explainItemsSearch, getOwners, getRows } from './api.ts'
import {
  ANON,
  type Identity,
  identityKey,
  identityLabel,
  ownerUsers,
  SERVICE_ROLE,
  withUser,
} from './identity.ts'
import { indexUse } from './plan.ts'
import {
  busy,
  clearStatus,
  failed,
  idRange,
  plural,
  renderCollection,
  renderIdentities,
  renderIdentity,
  renderPlan,
  renderResults,
  renderRows,
  renderRowsCount,
  renderScatter,
  status,
  ui,
  valuesText,
} from './render.ts'
import type { Scatter } from './scatter.ts'
import type { PageState, Search } from './state.ts'
import type { CollectionInfo, ExplainRequest } from './types.ts'
import {
  formatValues,
  parseJsonObject,
  parseRecordValues,
  parseValues,
  recordIds,
} from './values.ts'
import { formatVector, parseVector, parseVectors } from './vectors.ts'

/** What every action works with: the state, the calls, and the 3-D view if there is one. */
export interface Page {
  state: PageState
  api: Api
  scatter: Scatter | undefined
}

/** Shows the collection called `name` (if listed), with what was typed for it before. */
export async function selectCollection(page: Page, name: string): Promise<void> {
  const { state } = page
  const next = state.collections.find((collection) => collection.name === name)
  if (!next) return
  if (state.current) {
    state.drafts.set(state.current.name, {
      search: ui.searchInput.value,
      text: ui.searchText.value,
      filter: ui.searchFilter.value,
    })
  }
  state.current = next
  history.replaceState(null, '', `#${encodeURIComponent(name)}`)
  state.search = undefined
  renderCollection(next)
  const isItems = next.kind === 'items'
  const draft = state.drafts.get(name)
  ui.searchInput.value = draft?.search ?? (isItems ? ui.searchInput.defaultValue : '')
  ui.searchText.value = draft?.text ?? ''
  ui.searchFilter.value = draft?.filter ?? ''
  // What the last insert and search said was about the collection shown before.
  clearStatus(ui.insertStatus)
  clearStatus(ui.searchStatus)
  renderResults(state)
  renderPlan(undefined)
  await loadRows(page)
  // A first query to start from: the first row's own values, when the collection has rows.
  if (!draft && !isItems && state.rows[0]) {
    ui.searchInput.value = valuesText(state.rows[0].embedding)
  }
}

/** Acts as the identity the picker's option `key` names, and shows what it sees. */
export async function actAs(page: Page, key: string): Promise<void> {
  const { state } = page
  const next = [SERVICE_ROLE, ANON, ...state.users, ...state.owners.map(({ user }) => user)].find(
    (identity) => identityKey(identity) === key,
  )
  if (!next) return
  // An owner picked stays to pick in the other collections.
  if (next.role === 'authenticated') state.users = withUser(state.users, next)
  await showAs(page, next)
}

/** Mints a token for the user the form names (a new one when blank), and acts as them. */
export async function addUser(page: Page): Promise<void> {
  const user = ui.userId.value.trim()
  const tenant = ui.userTenant.value.trim()
  status(ui.identityStatus, 'busy', 'minting a token…')
  let added
  try {
    added = await busy(
      ui.userSubmit,
      page.api.addUser({ ...(user ? { user } : {}), ...(tenant ? { tenant } : {}) }),
    )
  } catch (error) {
    // The playground server's refusal (a user id that is no uuid): the form's to show.
    return status(ui.identityStatus, 'error', (error as Error).message)
  }
  ui.userId.value = ''
  ui.userTenant.value = ''
  page.state.users = withUser(page.state.users, added)
  status(ui.identityStatus, 'ok', `${identityLabel(added)}: a 1-hour token for ${added.user}`)
  await showAs(page, added)
}

/** Acts as `identity`: the rows and the last search again, as they see them. */
async function showAs(page: Page, identity: Identity): Promise<void> {
  const { state } = page
  state.identity = identity
  renderIdentities(state)
  renderIdentity(state)
  // What the last insert said, and the last search found, was another identity's: the
  // results go until the search has run again as this one.
  clearStatus(ui.insertStatus)
  const again = state.search
  state.search = undefined
  renderResults(state)
  await loadRows(page)
  if (again) await search(page, again)
}

/**
 * Reloads the shown collection's rows as the identity sees them (a collection's through the
 * SDK; `items`, which everyone may read, from the playground server), and its owners.
 */
export async function loadRows(page: Page): Promise<void> {
  const { state } = page
  const collection = state.current
  const identity = state.identity
  if (!collection) return
  const [answer, owners] = await Promise.all([
    collection.kind === 'items'
      ? getRows(collection.name).then((rows) => ({ data: rows, error: null }))
      : page.api.readRecords(identity, collection),
    collection.access === 'public' ? undefined : getOwners(collection.name),
  ])
  // Another collection or identity picked meanwhile: these rows are no longer the ones to show.
  if (state.current !== collection || state.identity !== identity) return
  state.rows = answer.data?.rows ?? []
  state.rowsError = answer.error ?? undefined
  state.owners = owners
    ? ownerUsers(
        owners.column,
        owners.owners.map((owner) => owner.value),
        state.users,
      ).map((user, index) => ({ user, rows: owners.owners[index]!.rows }))
    : []
  renderIdentities(state)
  renderRowsCount(state.rows.length, answer.data?.total)
  renderRows(state)
  renderScatter(page.scatter, state)
}

/** Inserts (items) or upserts (a collection) what the insert form holds. */
export async function insert(page: Page): Promise<void> {
  const { current } = page.state
  if (!current) return
  const stored =
    current.kind === 'items' ? await insertItems(page) : await upsertRecords(page, current)
  if (!stored) return
  await loadRows(page)
  // The neighbours shown must stay true: new rows may be nearer than the old ones.
  if (page.state.search) await search(page, page.state.search)
}

/** Searches with the search form, or reruns `again` (after an insert). */
export async function search(page: Page, again?: Search): Promise<void> {
  const { current } = page.state
  if (!current) return
  if (current.kind === 'items') await searchItems(page, current, again)
  else await searchCollection(page, current, again)
}

/** Searches by the values of the row with this id, as shown in the rows table. */
export async function searchFromRow(page: Page, id: string): Promise<void> {
  const found = page.state.rows.find((row) => String(row.id) === id)
  if (!found) return
  ui.searchInput.value = valuesText(found.embedding)
  await search(page)
}

/** Inserts the typed vectors into `items`; whether it did. */
async function insertItems({ api, state }: Page): Promise<boolean> {
  let vectors: number[][]
  try {
    vectors = parseVectors(ui.insertInput.value)
  } catch (error) {
    return failed(ui.insertStatus, (error as Error).message)
  }
  status(ui.insertStatus, 'busy', `inserting ${plural(vectors.length, 'vector')}…`)
  const { data, error } = await busy(ui.insertSubmit, api.insertItems(state.identity, vectors))
  if (error) return failed(ui.insertStatus, error.message, error.code)
  const { ids } = data
  status(ui.insertStatus, 'ok', `inserted ${plural(ids.length, 'row')} (${idRange(ids)})`)
  return true
}

/** Upserts the typed record(s) into a collection; whether it did. */
async function upsertRecords({ api, state }: Page, collection: CollectionInfo): Promise<boolean> {
  let records
  try {
    const values = parseRecordValues(ui.insertInput.value, collection.vectorType)
    const metadata = parseJsonObject(ui.insertMetadata.value, 'metadata')
    const ids = recordIds(ui.insertId.value, values.length)
    const ownership = recordOwnership(collection, state.identity)
    const text = collection.textLanguage === null ? '' : ui.insertText.value.trim()
    records = values.map((value, index) => ({
      id: ids[index]!,
      values: value,
      ...(metadata ? { metadata } : {}),
      ...(text ? { text } : {}),
      ...ownership,
    }))
  } catch (error) {
    return failed(ui.insertStatus, (error as Error).message)
  }
  status(ui.insertStatus, 'busy', `upserting ${plural(records.length, 'record')}…`)
  const { error } = await busy(
    ui.insertSubmit,
    api.upsert(state.identity, collection.name, records),
  )
  if (error) return failed(ui.insertStatus, error.message, error.code)
  const ids = records.map((record) => record.id)
  status(ui.insertStatus, 'ok', `upserted ${plural(ids.length, 'record')} (${idRange(ids)})`)
  return true
}

async function searchItems(page: Page, collection: CollectionInfo, again?: Search): Promise<void> {
  const { state, api } = page
  let query: number[]
  try {
    query = again ? (again.query as number[]) : parseVector(ui.searchInput.value)
  } catch (error) {
    return status(ui.searchStatus, 'error', (error as Error).message)
  }
  const count = again?.count ?? Number(ui.searchK.value)
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const identity = state.identity
  const { data, error } = await busy(ui.searchSubmit, api.matchItems(identity, query, count))
  if (state.current !== collection || state.identity !== identity) return
  if (error) return searchFailed(page, error.message, error.code)
  const took = Math.round(performance.now() - started)
  const matches = data.matches.map(({ id, distance, embedding }) => ({
    id,
    distance,
    values: embedding,
  }))
  showSearch(
    page,
    { query, count, matches },
    `${plural(matches.length, 'nearest row')} to ${formatVector(query)} by ${collection.metric ?? 'vector'} distance · ${took} ms`,
  )
  const request: ExplainRequest = { collection: collection.name, embedding: query, count }
  const explained = await explainItemsSearch(request)
  // Another search or another collection since: this plan is not of the search shown.
  if (state.search?.query === query) renderPlan(explained)
}

async function searchCollection(
  page: Page,
  collection: CollectionInfo,
  again?: Search,
): Promise<void> {
  const { state, api } = page
  let query: VectorValuesInput | undefined
  let text: string | undefined
  let filter: Record<string, unknown> | undefined
  try {
    text = again ? again.text : typedText(collection)
    // With keywords, the vector is optional: without one, the search is by keywords alone.
    query =
      again?.query ??
      (text !== undefined && ui.searchInput.value.trim() === ''
        ? undefined
        : parseValues(ui.searchInput.value, collection.vectorType))
    filter = again ? again.filter : parseJsonObject(ui.searchFilter.value, 'filter')
  } catch (error) {
    return status(ui.searchStatus, 'error', (error as Error).message)
  }
  const count = again?.count ?? Number(ui.searchK.value)
  const scan = again?.scan ?? (ui.searchScan.value as Search['scan'])
  if (text !== undefined) {
    return await searchByText(page, collection, { query, text, count, filter, scan, matches: [] })
  }
  if (query === undefined) return
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const identity = state.identity
  const { data, error } = await busy(
    ui.searchSubmit,
    api.search(identity, collection.name, {
      vector: query,
      topK: count,
      includeValues: true,
      ...(filter ? { filter } : {}),
      scan,
    }),
  )
  if (state.current !== collection || state.identity !== identity) return
  if (error) return searchFailed(page, error.message, error.code)
  const took = Math.round(performance.now() - started)
  const matches = data.matches
  showSearch(
    page,
    { query, count, filter, scan, matches },
    `${plural(matches.length, 'nearest record')} to ${formatValues(query, 4)} by ${collection.metric ?? 'vector'} distance${filter ? ', filtered' : ''} · ${took} ms`,
  )
  if (!data.plan) {
    return renderPlan(
      undefined,
      `The plan of a search is shown to service_role only: "explain" needs its key, and ${identityLabel(identity)} searched without it.`,
    )
  }
  // The plan lists every part of the query's one statement, run or not: the function's `scan`
  // says which part answered.
  const indexUsed = data.scan === 'index'
  renderPlan({
    plan: data.plan,
    indexUsed,
    index: indexUsed ? collection.index : indexUse(data.plan, null).index,
    scan: data.scan,
  })
}

/** The keywords typed for a text collection, if any. */
function typedText(collection: CollectionInfo): string | undefined {
  const text = ui.searchText.value.trim()
  return collection.textLanguage !== null && text !== '' ? text : undefined
}

/**
 * A text collection's search by `text`: alone, ranked by keyword (`ts_rank_cd`); with a
 * vector, hybrid, the two rankings fused by reciprocal rank. Each match has its score and ranks.
 */
async function searchByText(
  page: Page,
  collection: CollectionInfo,
  wanted: Search & { text: string },
): Promise<void> {
  const { state, api } = page
  const { query, text, count, filter, scan } = wanted
  const options = { text, topK: count, includeValues: true, ...(filter ? { filter } : {}) }
  status(ui.searchStatus, 'busy', 'searching…')
  const started = performance.now()
  const identity = state.identity
  const { data, error } = await busy(
    ui.searchSubmit,
    api.searchText(
      identity,
      collection.name,
      query === undefined ? options : { ...options, vector: query, scan },
    ),
  )
  if (state.current !== collection || state.identity !== identity) return
  if (error) return searchFailed(page, error.message, error.code)
  const took = Math.round(performance.now() - started)
  const how =
    query === undefined
      ? 'by keyword rank'
      : `and ${formatValues(query, 4)}, keyword and ${collection.metric ?? 'vector'} ranks fused`
  showSearch(
    page,
    { ...wanted, matches: data.matches },
    `${plural(data.matches.length, 'record')} for ${JSON.stringify(text)} ${how}${filter ? ', filtered' : ''} · ${took} ms`,
  )
  renderPlan(undefined, 'A text search answers no plan: "explain" applies to vector queries.')
}

/**
 * The owner or tenant the insert form names for service_role's records in an owner or tenant
 * collection; nothing for a user, whose rows the database gives their own.
 */
function recordOwnership(
  collection: CollectionInfo,
  identity: Identity,
): { owner_id?: string; tenant_id?: string } {
  const owner = ui.insertOwner.value.trim()
  if (identity.role !== 'service_role' || collection.access === 'public' || owner === '') return {}
  return collection.access === 'owner' ? { owner_id: owner } : { tenant_id: owner }
}

function showSearch(page: Page, found: Search, message: string): void {
  page.state.search = found
  status(ui.searchStatus, 'ok', message)
  renderSearch(page)
}

function searchFailed(page: Page, message: string, code: string): void {
  page.state.search = undefined
  renderSearch(page)
  status(ui.searchStatus, 'error', message, code)
}

/** What shows the last search: the results, the rows' marks, the scatter. */
function renderSearch({ state, scatter }: Page): void {
  renderResults(state)
  renderRows(state)
  renderScatter(scatter, state)
}
