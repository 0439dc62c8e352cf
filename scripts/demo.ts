/**
 * `npm run demo`: the tutorial, through the SDK, against the running stack.
 *
 * Inserts [1,2,3] and the 27 points of the grid [i,j,k] (i,j,k in 1..3), asks for the 4
 * items nearest to [3,1,2] by cosine distance, shows that the HNSW index serves that query,
 * and shows pgvector's refusal of a 4-dimensional vector. Safe to run twice: points the
 * table already holds are not inserted again.
 */
import postgres from 'postgres'
import { parseOrExit } from '../cli/args.ts'
import { createItemsClient } from '../src/index.ts'
import { explainFunctionQuery } from '../stack/explain.ts'
import { readRunningStatus } from '../stack/state.ts'

/** The tutorial's points: [1,2,3], then the grid. */
export function tutorialPoints(): number[][] {
  const points = [[1, 2, 3]]
  for (let i = 1; i <= 3; i++)
    for (let j = 1; j <= 3; j++) for (let k = 1; k <= 3; k++) points.push([i, j, k])
  return points
}

const USAGE = `usage: npm run demo

Runs the tutorial through the SDK against the running stack: inserts [1,2,3] and a grid of
points, finds the 4 nearest to [3,1,2], shows the HNSW index serving that search and
pgvector refusing a vector of the wrong length. Safe to run twice.

  --help    this text`

async function main(): Promise<void> {
  parseOrExit('npm run demo', process.argv.slice(2), { usage: USAGE, options: {} })
  const status = await readRunningStatus()
  if (!status) {
    console.error(
      'npm run demo: Matchbox is not running: start it with `npm start` in another shell',
    )
    process.exit(1)
  }
  const admin = createItemsClient({ url: status.API_URL, key: status.SERVICE_ROLE_KEY })
  const reader = createItemsClient({ url: status.API_URL, key: status.ANON_KEY })
  const sql = postgres(status.DB_URL, { max: 1, onnotice: () => {} })
  try {
    const stored = await sql<
      { embedding: string }[]
    >`select embedding::text as embedding from public.items`
    const missing = withoutStored(
      tutorialPoints(),
      stored.map((row) => row.embedding),
    )
    if (missing.length === 0) {
      console.log('items already holds the tutorial points: nothing inserted')
    } else {
      const { data, error } = await admin.insertItems(missing)
      if (error) throw error
      const { ids } = data
      console.log(`inserted ${ids.length} items (ids ${ids[0]}…${ids.at(-1)})`)
    }

    console.log('\nmatchItems([3, 1, 2], 4), as anon:')
    const { data, error } = await reader.matchItems([3, 1, 2], 4)
    if (error) throw error
    console.log('  id  embedding  distance')
    for (const match of data.matches) {
      console.log(
        `${String(match.id).padStart(4)}  ${JSON.stringify(match.embedding).padEnd(9)}  ${match.distance}`,
      )
    }

    console.log('\nEXPLAIN of the query in public.match_items:')
    const plan = await explainFunctionQuery(sql, 'public.match_items(extensions.vector, int)', [
      '[3,1,2]',
      4,
    ])
    for (const line of plan) console.log(`  ${line}`)
    const served = plan.some((line) => line.includes('Index Scan using items_embedding_hnsw_idx'))
    console.log(
      served
        ? '  -> the HNSW index serves the search'
        : '  -> WARNING: the HNSW index was not used',
    )

    console.log('\ninsertItems([[1, 2, 3, 4]]):')
    const refused = await admin.insertItems([[1, 2, 3, 4]])
    console.log(`  ${refused.error?.status} ${refused.error?.code}: ${refused.error?.message}`)
  } finally {
    await sql.end()
  }
}

/** The points not yet stored, counting duplicates: each stored vector covers one point. */
function withoutStored(points: number[][], stored: string[]): number[][] {
  const counts = new Map<string, number>()
  for (const text of stored) counts.set(text, (counts.get(text) ?? 0) + 1)
  return points.filter((point) => {
    const key = JSON.stringify(point)
    const count = counts.get(key) ?? 0
    if (count === 0) return true
    counts.set(key, count - 1)
    return false
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error('npm run demo failed:', error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
