/**
 * The tutorial through the SDK: insert three vectors, then the nearest to [3, 1, 2].
 * Run it against `npm start`'s stack with its keys in your shell (docs/api.md, "Conventions"):
 *   npx tsx examples/quickstart.ts
 */
import { createMatchboxClient } from 'matchbox-vectors'

const url = process.env.API_URL ?? 'http://127.0.0.1:54321'
const reader = createMatchboxClient({ url, key: process.env.ANON_KEY! })
const writer = createMatchboxClient({ url, key: process.env.SERVICE_ROLE_KEY! })

const inserted = await writer.items.insertItems([
  [3, 1, 2],
  [2, 1, 1],
  [1, 2, 3],
])
if (inserted.error) throw inserted.error
const { data, error } = await reader.items.matchItems([3, 1, 2], 2)
if (error) throw error
console.log(`inserted ${inserted.data.ids.join(', ')}; nearest to [3,1,2]:`, data.matches)
