/**
 * A collection through the SDK: upsert with metadata, a filtered query, a patch, a count and
 * every id. Needs a collection `docs` of 3 dimensions:
 *   npm run collection:new -- docs --dimensions 3 && npm run db:push
 *   npx tsx examples/collection.ts
 */
import { createMatchboxClient } from 'matchbox-vectors'

interface Doc {
  title: string
  year: number
}

const url = process.env.API_URL ?? 'http://127.0.0.1:54321'
const name = process.env.COLLECTION ?? 'docs'
const docs = createMatchboxClient({ url, key: process.env.SERVICE_ROLE_KEY! }).collection<Doc>(name)

const upserted = await docs.upsert([
  { id: 'doc-1', values: [1, 0, 0], metadata: { title: 'pgvector', year: 2021 } },
  { id: 'doc-2', values: [0.9, 0.1, 0], metadata: { title: 'HNSW', year: 2016 } },
  { id: 'doc-3', values: [0, 1, 0], metadata: { title: 'IVFFlat', year: 2010 } },
])
if (upserted.error) throw upserted.error

const recent = await docs.query({ vector: [1, 0, 0], topK: 2, filter: { year: { $gte: 2015 } } })
if (recent.error) throw recent.error
console.log(
  'since 2015, nearest first:',
  recent.data.matches.map((m) => m.metadata?.title),
)

await docs.update({ id: 'doc-3', metadata: { year: 2017 } })
const counted = await docs.count({ filter: { year: { $gte: 2015 } } })
if (counted.error) throw counted.error
console.log('since 2015 now:', counted.data.count)

const ids: string[] = []
for await (const id of docs.ids({ prefix: 'doc-' })) ids.push(id)
console.log('ids:', ids.join(', '))
await docs.delete({ ids })
