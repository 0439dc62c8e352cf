/** What the page remembers between events, in one object that the handlers share. */
import type { MatchboxError, VectorValuesInput } from '../../src/index.ts'
import { type Identity, SERVICE_ROLE, type User } from './identity.ts'
import type { PointId } from './scatter.ts'
import type { CollectionInfo, Row, VectorValues } from './types.ts'

/** One neighbour of the last search, from either API. */
export interface Neighbour {
  id: PointId
  /** Absent from a text search's match that the vector side did not find. */
  distance?: number
  values?: VectorValues
  metadata?: Record<string, unknown>
  /** A text search's score (`ts_rank_cd`'s, or the fused one) and the match's rank on each side. */
  score?: number
  ranks?: { text: number | null; vector: number | null }
}

/** The last search, kept so that the scatter and the rows table can show it, and rerun. */
export interface Search {
  /** The query vector; none in a keyword search. */
  query: VectorValuesInput | undefined
  /** A text collection's keywords: alone (keyword search) or with `query` (hybrid). */
  text?: string
  count: number
  /** A collection's search only: its filter and scan. */
  filter?: Record<string, unknown>
  scan?: 'auto' | 'index' | 'exact'
  matches: Neighbour[]
}

/** What a person typed for one collection, kept while they look at another. */
export interface Draft {
  search: string
  text: string
  filter: string
}

/** The page's state. */
export interface PageState {
  /** Every collection the playground server lists, `items` first. */
  collections: CollectionInfo[]
  /** The collection shown. */
  current: CollectionInfo | undefined
  /** Its rows, as last loaded, as the identity sees them. */
  rows: Row[]
  /** Why the identity could not read its rows (anon in an owner collection), if it could not. */
  rowsError: MatchboxError | undefined
  /** Who the page acts as. */
  identity: Identity
  /** The users to pick from: added with the form, or picked from a collection's owners. */
  users: User[]
  /** The shown collection's owners or tenants as users to act as, with their row counts. */
  owners: { user: User; rows: number }[]
  /** The last search in it, if it succeeded. */
  search: Search | undefined
  /** What was typed, by collection name. */
  drafts: Map<string, Draft>
}

/** The state of a page that has shown nothing yet. */
export function createState(): PageState {
  return {
    collections: [],
    current: undefined,
    rows: [],
    rowsError: undefined,
    identity: SERVICE_ROLE,
    users: [],
    owners: [],
    search: undefined,
    drafts: new Map(),
  }
}
