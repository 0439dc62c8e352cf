/**
 * The playground page: pick a collection and who to act as (service_role, anon or a user),
 * see the rows they see and their 3-D scatter, insert vectors, search, and see the
 * neighbours and the plan of the search. Rows, inserts and searches go through the SDK to
 * the functions (api.ts); the playground server lends the keys, mints users' tokens and
 * serves the reads the SDK has no call for.
 */
import './jitless.ts'
import {
  actAs,
  addUser,
  insert,
  loadRows,
  type Page,
  search,
  searchFromRow,
  selectCollection,
} from './actions.ts'
import { connect, getCollections, getConfig } from './api.ts'
import {
  openScatter,
  renderCollectionList,
  renderIdentities,
  renderIdentity,
  renderPageError,
  ui,
} from './render.ts'
import { createState } from './state.ts'

async function start(): Promise<void> {
  const config = await getConfig()
  ui.apiUrl.textContent = config.apiUrl
  const page: Page = { state: createState(), api: connect(config), scatter: openScatter() }
  renderIdentities(page.state)
  renderIdentity(page.state)
  const collections = await getCollections()
  page.state.collections = collections
  renderCollectionList(collections)
  if (collections.length === 0) {
    throw new Error('no collections: have the migrations been applied? (`npm start` applies them)')
  }
  const wanted = decodeURIComponent(location.hash.slice(1))
  await selectCollection(
    page,
    collections.some((c) => c.name === wanted) ? wanted : collections[0]!.name,
  )

  ui.collection.addEventListener(
    'change',
    () => void guard(selectCollection(page, ui.collection.value)),
  )
  // A link or the address bar naming another collection changes only the fragment: no reload.
  addEventListener('hashchange', () => {
    const name = decodeURIComponent(location.hash.slice(1))
    if (name !== page.state.current?.name) void guard(selectCollection(page, name))
  })
  ui.identity.addEventListener('change', () => void guard(actAs(page, ui.identity.value)))
  ui.identityForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void guard(addUser(page))
  })
  ui.insertForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void guard(insert(page))
  })
  ui.searchForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void guard(search(page))
  })
  ui.refreshRows.addEventListener('click', () => void guard(loadRows(page)))
  ui.resetView.addEventListener('click', () => page.scatter?.resetView())
  ui.rowsBody.addEventListener('click', (event) => {
    const row = (event.target as HTMLElement).closest<HTMLTableRowElement>('tr[data-id]')
    if (row?.dataset.id !== undefined) void guard(searchFromRow(page, row.dataset.id))
  })
  document.body.dataset.ready = 'true'
}

/** Runs a handler; a failure of the playground server's own routes shows in the banner. */
async function guard(work: Promise<void>): Promise<void> {
  try {
    await work
    renderPageError(undefined)
  } catch (error) {
    renderPageError(error)
  }
}

void guard(start())
