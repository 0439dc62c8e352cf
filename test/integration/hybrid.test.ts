/**
 * Text collections: keyword and hybrid queries over a real corpus, the descriptions of the
 * Debian packages installed here (test/support/text-corpus.ts). Their vectors are a projection
 * of word counts, not a model's embeddings: the tests check the fusion, not semantic quality.
 * Every fused order is checked against one computed here from the two ranked lists — keyword
 * ranks from SQL `ts_rank_cd`, vector ranks by brute force — and the same for the RPC.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { CollectionSpecError, parseCollectionSpec } from '../../cli/collections/spec.ts'
import { databaseEnv, supabaseCli } from '../../stack/cli.ts'
import { post, stack } from '../support/http.ts'
import {
  type CorpusDocument,
  cosineDistance,
  debianDescriptions,
  projectWords,
  words,
} from '../support/text-corpus.ts'
import { userToken } from '../support/tokens.ts'
import { dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const DOCS = 't_hybrid_docs'
const PLAIN = 't_hybrid_plain'
const OWNED = 't_hybrid_owned'
const DIMENSIONS = 32
const admin = { key: stack.serviceRoleKey }
const USER_A = '0a0a0a0a-0000-4000-8000-0000000000a1'
const USER_B = '0b0b0b0b-0000-4000-8000-0000000000b2'

let corpus: CorpusDocument[]
const vectors = new Map<string, number[]>()

async function create(name: string, input: Record<string, unknown>): Promise<void> {
  await drop(name)
  await sql.unsafe(
    collectionMigrationSql(parseCollectionSpec({ name, dimensions: DIMENSIONS, ...input })),
  )
}

async function drop(name: string): Promise<void> {
  await dropCollection(sql, name)
  await sql.unsafe(`drop function if exists public.hybrid_${name}`)
}

beforeAll(async () => {
  corpus = debianDescriptions()
  expect(corpus.length).toBeGreaterThan(200)
  for (const document of corpus) vectors.set(document.id, projectWords(document.text, DIMENSIONS))
  await create(DOCS, { text: true })
  await create(PLAIN, {})
  for (let start = 0; start < corpus.length; start += 500) {
    const records = corpus.slice(start, start + 500).map((document) => ({
      id: document.id,
      values: vectors.get(document.id),
      text: document.text,
      metadata: { section: document.section },
    }))
    const response = await post(`vectors/${DOCS}/upsert`, { records }, admin)
    expect(response).toMatchObject({ status: 200, body: { upserted: records.length } })
  }
}, 120_000)

afterAll(async () => {
  await drop(DOCS)
  await drop(PLAIN)
  await drop(OWNED)
  await sql.end()
})

/** Keyword ranking by SQL, as the test computes it: ts_rank_cd descending, then id. */
async function keywordRanking(
  text: string,
  limit: number,
  filter: Record<string, unknown> = {},
): Promise<{ id: string; rank: number }[]> {
  const rows = await sql.unsafe(
    `select id, ts_rank_cd(fts, q) as rank
     from public.${DOCS}, websearch_to_tsquery('english', $1) as q
     where fts @@ q and metadata @> $2::text::jsonb
     order by rank desc, id limit $3`,
    [text, JSON.stringify(filter), limit],
  )
  return rows.map((row) => ({ id: row.id as string, rank: Number(row.rank) }))
}

/** Vector ranking by brute force over the corpus, nearest first, then id. */
function vectorRanking(
  query: number[],
  limit: number,
  keep: (document: CorpusDocument) => boolean = () => true,
): { id: string; distance: number }[] {
  return corpus
    .filter(keep)
    .map((document) => ({
      id: document.id,
      distance: cosineDistance(query, vectors.get(document.id)!),
    }))
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
    .slice(0, limit)
}

/** Reciprocal rank fusion written out again here, independently of hybrid.ts. */
function expectedFusion(
  text: string[],
  vector: { id: string; distance: number }[],
  fusion: { k: number; textWeight: number; vectorWeight: number },
  topK: number,
): { id: string; score: number; text: number | null; vector: number | null }[] {
  const ids = [...new Set([...text, ...vector.map((row) => row.id)])]
  return ids
    .map((id) => {
      const t = text.indexOf(id) + 1 || null
      const v = vector.findIndex((row) => row.id === id) + 1 || null
      const score =
        (t ? fusion.textWeight / (fusion.k + t) : 0) +
        (v ? fusion.vectorWeight / (fusion.k + v) : 0)
      const distance = v ? vector[v - 1]!.distance : Infinity
      return { id, score, text: t, vector: v, distance }
    })
    .sort((a, b) => b.score - a.score || a.distance - b.distance || (a.id < b.id ? -1 : 1))
    .slice(0, topK)
    .map(({ id, score, text, vector }) => ({ id, score, text, vector }))
}

/** Words of exactly one document, in that document's order, as Postgres's parser sees them. */
async function rareWord(): Promise<{ word: string; document: CorpusDocument }> {
  const counts = new Map<string, number>()
  for (const document of corpus) {
    for (const word of new Set(words(document.text))) counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  for (const document of corpus) {
    for (const word of new Set(words(document.text))) {
      if (counts.get(word) !== 1 || word.length < 8 || /\d/.test(word)) continue
      const [row] = await sql.unsafe(
        `select count(*)::int as n from public.${DOCS} where fts @@ websearch_to_tsquery('english', $1)`,
        [word],
      )
      if (row!.n === 1) return { word, document }
    }
  }
  throw new Error('no rare word in the corpus')
}

describe('text collections (collection:new --text)', () => {
  it('adds content, a generated fts column with a GIN index, and hybrid_<name>', async () => {
    const columns = await sql`
      select attname, format_type(atttypid, atttypmod) as type, attgenerated
      from pg_attribute where attrelid = ${`public.${DOCS}`}::regclass
        and attname in ('content', 'fts') order by attname`
    expect(columns).toEqual([
      { attname: 'content', type: 'text', attgenerated: '' },
      { attname: 'fts', type: 'tsvector', attgenerated: 's' },
    ])
    const [index] = await sql`select pg_get_indexdef(${`public.${DOCS}_fts_idx`}::regclass) as def`
    expect(index!.def).toContain('USING gin (fts)')
    const [fn] = await sql`
      select p.prosecdef, p.proconfig, pg_get_function_identity_arguments(p.oid) as args
      from pg_proc p where p.proname = ${`hybrid_${DOCS}`}`
    expect(fn!.prosecdef).toBe(false)
    expect(fn!.proconfig).toContain('search_path=""')
    expect(fn!.args).toBe(
      'query_text text, query_embedding extensions.vector, match_count integer, full_text_weight double precision, semantic_weight double precision, rrf_k integer, filter jsonb',
    )
  })

  it('refuses a language the database does not have, listing those it has', async () => {
    const migration = collectionMigrationSql(
      parseCollectionSpec({
        name: 't_hybrid_klingon',
        dimensions: 3,
        text: true,
        language: 'klingon',
      }),
    )
    const error = await sql.unsafe(migration).catch((caught: Error) => caught)
    expect(String(error)).toMatch(/text search configuration "klingon" does not exist/)
    expect(String(error)).toMatch(/english, .*simple/)
    const [exists] = await sql`select to_regclass('public.t_hybrid_klingon') as t`
    expect(exists!.t).toBeNull()
    expect(() => parseCollectionSpec({ name: 'x', dimensions: 3, language: 'english' })).toThrow(
      CollectionSpecError,
    )
    expect(() =>
      parseCollectionSpec({ name: 'x', dimensions: 3, text: true, language: "english'; drop" }),
    ).toThrow(/--language must name a text search configuration/)
  })

  it('builds a text collection in another language (simple keeps stop words)', async () => {
    const name = 't_hybrid_simple'
    await create(name, { text: true, language: 'simple' })
    try {
      await post(
        `vectors/${name}/upsert`,
        { records: [{ id: 'a', values: projectWords('the the', DIMENSIONS), text: 'the end' }] },
        admin,
      )
      const response = await post(`vectors/${name}/query`, { text: 'the' }, admin)
      expect(response.status, JSON.stringify(response.body)).toBe(200)
      expect(response.body.matches.map((m: { id: string }) => m.id)).toEqual(['a'])
    } finally {
      await drop(name)
    }
  })
})

describe('keyword queries', () => {
  it('rank by ts_rank_cd, ties by id, as SQL ranks them', async () => {
    for (const text of [
      'library',
      'compression library',
      '"shared library" -development',
      'perl or python',
    ]) {
      const expected = await keywordRanking(text, 15)
      expect(expected.length).toBeGreaterThan(3)
      const response = await post(`vectors/${DOCS}/query`, { text, topK: 15 }, admin)
      expect(response.status).toBe(200)
      expect(response.body.matches.map((m: { id: string }) => m.id)).toEqual(
        expected.map((row) => row.id),
      )
      response.body.matches.forEach(
        (match: { score: number; ranks: unknown; distance?: number }, index: number) => {
          expect(match.score).toBeCloseTo(expected[index]!.rank, 6)
          expect(match.ranks).toEqual({ text: index + 1, vector: null })
          expect(match.distance).toBeUndefined()
        },
      )
    }
  })

  it('honour websearch syntax: a quoted phrase, an excluded word', async () => {
    const phrase = await post(
      `vectors/${DOCS}/query`,
      { text: '"shared library"', topK: 1000 },
      admin,
    )
    const excluded = await post(
      `vectors/${DOCS}/query`,
      { text: '"shared library" -development', topK: 1000, includeMetadata: false },
      admin,
    )
    expect(phrase.status).toBe(200)
    const kept = new Set(excluded.body.matches.map((m: { id: string }) => m.id))
    for (const id of kept) {
      const text = corpus.find((document) => document.id === id)!.text.toLowerCase()
      expect(text).not.toMatch(/\bdevelop/)
    }
    expect(kept.size).toBeLessThan(phrase.body.matches.length)
  })

  it('filter the rows they rank, exactly', async () => {
    const filter = { section: 'libs' }
    const expected = await keywordRanking('library', 30, filter)
    const response = await post(
      `vectors/${DOCS}/query`,
      { text: 'library', topK: 30, filter },
      admin,
    )
    expect(response.body.matches.map((m: { id: string }) => m.id)).toEqual(
      expected.map((row) => row.id),
    )
    expect(
      response.body.matches.every(
        (m: { metadata: { section: string } }) => m.metadata.section === 'libs',
      ),
    ).toBe(true)
  })

  it('answer 0 rows for words no text has, 400 for text with no searchable words', async () => {
    const none = await post(`vectors/${DOCS}/query`, { text: 'xyzzyplugh' }, admin)
    expect(none).toMatchObject({ status: 200, body: { matches: [] } })
    for (const text of ['the and of', '!!!', '   ', '-', '""']) {
      const response = await post(`vectors/${DOCS}/query`, { text }, admin)
      expect(response.status, text).toBe(400)
      expect(response.body.error.message).toContain('text: has no searchable words')
    }
    const empty = await post(`vectors/${DOCS}/query`, { text: '' }, admin)
    expect(empty.status).toBe(400)
    expect(empty.body.error.message).toContain('expected a non-empty text')
  })
})

describe('hybrid queries', () => {
  const settings = [
    { k: 50, textWeight: 1, vectorWeight: 1 },
    { k: 1, textWeight: 1, vectorWeight: 1 },
    { k: 60, textWeight: 3, vectorWeight: 1 },
    { k: 10, textWeight: 0.5, vectorWeight: 2 },
    { k: 0, textWeight: 1, vectorWeight: 0 },
  ]

  it('fuse as Σ weight / (k + rank) over both ranked lists, for several weights and k', async () => {
    const queries = [
      { text: 'library', like: 'zlib1g' },
      { text: 'perl module', like: 'perl' },
      { text: 'compression', like: 'xz-utils' },
    ]
    for (const { text, like } of queries) {
      const document = corpus.find((d) => d.id === like) ?? corpus[0]!
      const vector = projectWords(`${document.text} ${text}`, DIMENSIONS)
      for (const fusion of settings) {
        for (const [topK, candidates] of [
          [10, 40],
          [5, 12],
        ] as const) {
          const keyword = (await keywordRanking(text, candidates)).map((row) => row.id)
          const nearest = vectorRanking(vector, candidates)
          const expected = expectedFusion(keyword, nearest, fusion, topK)
          const response = await post(
            `vectors/${DOCS}/query`,
            { text, vector, topK, scan: 'exact', fusion: { ...fusion, candidates } },
            admin,
          )
          expect(response.status).toBe(200)
          const got = response.body.matches.map(
            (m: { id: string; score: number; ranks: { text: number; vector: number } }) => ({
              id: m.id,
              score: m.score,
              text: m.ranks.text,
              vector: m.ranks.vector,
            }),
          )
          expect(
            got.map((m: { id: string }) => m.id),
            `${text} ${JSON.stringify(fusion)}`,
          ).toEqual(expected.map((m) => m.id))
          got.forEach((match: { score: number; text: number; vector: number }, i: number) => {
            expect(match.score).toBeCloseTo(expected[i]!.score, 12)
            expect(match.text).toBe(expected[i]!.text)
            expect(match.vector).toBe(expected[i]!.vector)
          })
          for (const match of response.body.matches) {
            if (match.ranks.vector === null) expect(match.distance).toBeUndefined()
            else expect(match.distance).toBeCloseTo(nearest[match.ranks.vector - 1]!.distance, 5)
          }
        }
      }
    }
  })

  it('put the document with a rare query word first in keyword and in the first two in hybrid, however far its vector', async () => {
    const { word, document } = await rareWord()
    const far = vectorRanking(vectors.get(document.id)!, corpus.length).at(-1)!
    const keyword = await post(`vectors/${DOCS}/query`, { text: word }, admin)
    expect(keyword.body.matches[0].id).toBe(document.id)
    const vector = vectors.get(far.id)!
    const hybrid = await post(`vectors/${DOCS}/query`, { text: word, vector, topK: 10 }, admin)
    expect(hybrid.status).toBe(200)
    const ids = hybrid.body.matches.map((m: { id: string }) => m.id)
    expect(ids.slice(0, 2)).toContain(document.id)
    const rare = hybrid.body.matches.find((m: { id: string }) => m.id === document.id)
    expect(rare.ranks).toEqual({ text: 1, vector: null })
    // And the nearest vector, which has not the word, is there too: first on its side.
    const nearest = hybrid.body.matches.find((m: { id: string }) => m.id === far.id)
    expect(nearest).toMatchObject({ ranks: { text: null, vector: 1 } })
    expect(nearest.distance).toBeCloseTo(0, 5)
  })

  it('by the stored vector of an id, through the vector index, filtered: k rows on each side', async () => {
    const filter = { section: 'libs' }
    const response = await post(
      `vectors/${DOCS}/query`,
      { text: 'library', id: 'zlib1g', topK: 10, filter, fusion: { candidates: 40 } },
      admin,
    )
    expect(response.status).toBe(200)
    const matches = response.body.matches
    expect(matches).toHaveLength(10)
    expect(
      matches.every((m: { metadata: { section: string } }) => m.metadata.section === 'libs'),
    ).toBe(true)
    const libs = (d: CorpusDocument) => d.section === 'libs'
    const nearest = vectorRanking(vectors.get('zlib1g')!, 40, libs)
    const keyword = (await keywordRanking('library', 40, filter)).map((row) => row.id)
    // The index walk is approximate: where it agrees with brute force, so must the fusion.
    const expected = expectedFusion(keyword, nearest, { k: 50, textWeight: 1, vectorWeight: 1 }, 10)
    const overlap = matches.filter((m: { id: string }) => expected.some((e) => e.id === m.id))
    expect(overlap.length).toBeGreaterThanOrEqual(8)
    for (const match of matches) {
      if (match.ranks.text !== null) expect(keyword[match.ranks.text - 1]).toBe(match.id)
    }
  })

  it('give the RPC hybrid_<name> the same fusion, with its filter', async () => {
    const text = 'library'
    const vector = projectWords('compression library zlib', DIMENSIONS)
    for (const [textWeight, vectorWeight, k] of [
      [1, 1, 50],
      [2, 0.5, 5],
    ] as const) {
      const rows = await sql.unsafe(
        `select id, score, text_rank, vector_rank, distance
         from public.hybrid_${DOCS}($1, $2::extensions.vector, 10, $3, $4, $5, $6::text::jsonb)`,
        [
          text,
          JSON.stringify(vector),
          textWeight,
          vectorWeight,
          k,
          JSON.stringify({ section: 'libs' }),
        ],
      )
      const keyword = (await keywordRanking(text, 40, { section: 'libs' })).map((row) => row.id)
      const nearest = vectorRanking(vector, 40, (d) => d.section === 'libs')
      const expected = expectedFusion(keyword, nearest, { k, textWeight, vectorWeight }, 10)
      expect(rows.map((row) => row.id)).toEqual(expected.map((row) => row.id))
      rows.forEach((row, i) => {
        expect(row.score).toBeCloseTo(expected[i]!.score, 12)
        expect(row.text_rank).toBe(expected[i]!.text)
        expect(row.vector_rank).toBe(expected[i]!.vector)
      })
    }
  })
})

describe('records with text', () => {
  it('upsert stores text, fetch returns it when asked, update changes it', async () => {
    const id = 'zz-hybrid-record'
    const vector = projectWords('quokka', DIMENSIONS)
    const upsert = await post(
      `vectors/${DOCS}/upsert`,
      { records: [{ id, values: vector, text: 'a quokka smiles', metadata: { section: 'test' } }] },
      admin,
    )
    expect(upsert.status).toBe(200)
    const plain = await post(`vectors/${DOCS}/fetch`, { ids: [id] }, admin)
    expect(plain.body.records[0].text).toBeUndefined()
    const fetched = await post(`vectors/${DOCS}/fetch`, { ids: [id], includeText: true }, admin)
    expect(fetched.body.records[0].text).toBe('a quokka smiles')
    expect(
      (await post(`vectors/${DOCS}/query`, { text: 'quokka' }, admin)).body.matches[0].id,
    ).toBe(id)
    const update = await post(`vectors/${DOCS}/update`, { id, text: 'a wombat digs' }, admin)
    expect(update).toMatchObject({ status: 200, body: { updated: 1 } })
    expect((await post(`vectors/${DOCS}/query`, { text: 'quokka' }, admin)).body.matches).toEqual(
      [],
    )
    expect(
      (await post(`vectors/${DOCS}/query`, { text: 'wombat' }, admin)).body.matches[0].id,
    ).toBe(id)
    await post(`vectors/${DOCS}/update`, { id, text: null }, admin)
    const cleared = await post(`vectors/${DOCS}/fetch`, { ids: [id], includeText: true }, admin)
    expect(cleared.body.records[0].text).toBeNull()
    await post(`vectors/${DOCS}/delete`, { ids: [id] }, admin)
  })
})

describe('records with a text and no vector', () => {
  it('are stored, found by keyword and hybrid queries, and never by vector queries', async () => {
    const id = 'zz-text-only'
    const upsert = await post(
      `vectors/${DOCS}/upsert`,
      { records: [{ id, text: 'a numbat naps', metadata: { section: 'test' } }] },
      admin,
    )
    expect(upsert).toMatchObject({ status: 200, body: { upserted: 1 } })
    try {
      const fetched = await post(`vectors/${DOCS}/fetch`, { ids: [id], includeText: true }, admin)
      expect(fetched.body.records[0]).toMatchObject({ id, values: null, text: 'a numbat naps' })
      const keyword = await post(`vectors/${DOCS}/query`, { text: 'numbat' }, admin)
      expect(keyword.body.matches.map((m: { id: string }) => m.id)).toEqual([id])
      const vector = projectWords('numbat', DIMENSIONS)
      const hybrid = await post(`vectors/${DOCS}/query`, { text: 'numbat', vector }, admin)
      const found = hybrid.body.matches.find((m: { id: string }) => m.id === id)
      expect(found).toMatchObject({ ranks: { text: 1, vector: null } })
      expect(found.distance).toBeUndefined()
      const nearest = await post(`vectors/${DOCS}/query`, { vector, topK: 1000 }, admin)
      expect(nearest.status).toBe(200)
      expect(nearest.body.matches.some((m: { id: string }) => m.id === id)).toBe(false)
      const exact = await post(`vectors/${DOCS}/query`, { vector, topK: 5, scan: 'exact' }, admin)
      expect(exact.body.matches.every((m: { distance: unknown }) => m.distance !== null)).toBe(true)
      const byId = await post(`vectors/${DOCS}/query`, { id }, admin)
      expect(byId).toMatchObject({ status: 400 })
      expect(byId.body.error.message).toBe(
        `id: record "${id}" has a text and no vector: query it by text`,
      )
    } finally {
      await post(`vectors/${DOCS}/delete`, { ids: [id] }, admin)
    }
  })

  it('come back with "values": null from a keyword query that asks for values, sparse or dense', async () => {
    const sparse = 't_hybrid_sparse'
    await create(sparse, { text: true, type: 'sparsevec' })
    try {
      for (const name of [DOCS, sparse]) {
        const upsert = await post(
          `vectors/${name}/upsert`,
          { records: [{ id: 'zz-no-vector', text: 'a quokka smiles' }] },
          admin,
        )
        expect(upsert).toMatchObject({ status: 200 })
        const keyword = await post(
          `vectors/${name}/query`,
          { text: 'quokka', includeValues: true },
          admin,
        )
        expect({ name, ...keyword }).toMatchObject({
          name,
          status: 200,
          body: { matches: [{ id: 'zz-no-vector', values: null }] },
        })
      }
    } finally {
      await post(`vectors/${DOCS}/delete`, { ids: ['zz-no-vector'] }, admin)
      await drop(sparse)
    }
  })

  it('are refused without a text, and anywhere but in a text collection', async () => {
    const none = await post(`vectors/${DOCS}/upsert`, { records: [{ id: 'x' }] }, admin)
    expect(none.status).toBe(400)
    expect(none.body.error.message).toBe('records.0.values: required unless the record has a text')
    const plain = await post(`vectors/${PLAIN}/upsert`, { records: [{ id: 'x' }] }, admin)
    expect(plain.status).toBe(400)
    expect(plain.body.error.message).toBe('records.0.values: required')
    const [row] = await sql.unsafe(`select count(*)::int as n from public.${DOCS} where id = 'x'`)
    expect(row!.n).toBe(0)
  })
})

describe('access modes', () => {
  beforeAll(async () => {
    await create(OWNED, { text: true, access: 'owner' })
    const records = [
      { id: 'a1', text: 'alpha shared secret apple', owner_id: USER_A },
      { id: 'a2', text: 'alpha shared banana', owner_id: USER_A },
      { id: 'b1', text: 'beta shared secret apple', owner_id: USER_B },
      { id: 'b2', text: 'beta only zeppelin', owner_id: USER_B },
    ].map((record) => ({ ...record, values: projectWords(record.text, DIMENSIONS) }))
    const response = await post(`vectors/${OWNED}/upsert`, { records }, admin)
    expect(response.status).toBe(200)
  })

  it('show a user only their rows, on both sides; anon nothing', async () => {
    const asA = { key: await userToken(USER_A) }
    const keyword = await post(`vectors/${OWNED}/query`, { text: 'shared' }, asA)
    expect(keyword.body.matches.map((m: { id: string }) => m.id).sort()).toEqual(['a1', 'a2'])
    const theirs = await post(`vectors/${OWNED}/query`, { text: 'zeppelin' }, asA)
    expect(theirs).toMatchObject({ status: 200, body: { matches: [] } })
    const hybrid = await post(
      `vectors/${OWNED}/query`,
      { text: 'secret apple', vector: projectWords('beta only zeppelin', DIMENSIONS), topK: 4 },
      asA,
    )
    expect(hybrid.status).toBe(200)
    expect(hybrid.body.matches.map((m: { id: string }) => m.id).sort()).toEqual(['a1', 'a2'])
    expect(hybrid.body.matches[0]).not.toHaveProperty('owner_id')
    const byId = await post(`vectors/${OWNED}/query`, { text: 'secret', id: 'b1' }, asA)
    expect(byId.status).toBe(404)
    const anon = await post(`vectors/${OWNED}/query`, { text: 'shared' }, { key: stack.anonKey })
    expect(anon.status).toBe(403)
    const all = await post(`vectors/${OWNED}/query`, { text: 'shared' }, admin)
    expect(all.body.matches.map((m: { owner_id: string }) => m.owner_id).sort()).toEqual([
      USER_A,
      USER_A,
      USER_B,
    ])
  })

  it('apply row-level security to the RPC as the user calls it', async () => {
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true),
        set_config('request.jwt.claims', ${JSON.stringify({ sub: USER_B, role: 'authenticated' })}, true)`
      return await tx.unsafe(
        `select id from public.hybrid_${OWNED}('secret apple', $1::extensions.vector, 10)`,
        [JSON.stringify(projectWords('alpha', DIMENSIONS))],
      )
    })
    expect(rows.map((row) => row.id).sort()).toEqual(['b1', 'b2'])
  })
})

describe('bad input', () => {
  it('refuses text where the collection has none, saying how to add it', async () => {
    await post(
      `vectors/${PLAIN}/upsert`,
      { records: [{ id: 'a', values: projectWords('a', DIMENSIONS) }] },
      admin,
    )
    const query = await post(`vectors/${PLAIN}/query`, { text: 'library' }, admin)
    expect(query.status).toBe(400)
    expect(query.body.error.message).toContain('--text')
    const upsert = await post(
      `vectors/${PLAIN}/upsert`,
      { records: [{ id: 'b', values: projectWords('b', DIMENSIONS), text: 'words' }] },
      admin,
    )
    expect(upsert.status).toBe(400)
    expect(upsert.body.error.message).toContain('records.0.text')
    const fetch = await post(`vectors/${PLAIN}/fetch`, { ids: ['a'], includeText: true }, admin)
    expect(fetch.status).toBe(400)
    const update = await post(`vectors/${PLAIN}/update`, { id: 'a', text: 'x' }, admin)
    expect(update.status).toBe(400)
  })

  const refused: [Record<string, unknown>, string][] = [
    [{ text: 'x', fusion: { k: 1 } }, 'fusion: applies to hybrid queries'],
    [{ vector: [1], fusion: { k: 1 } }, 'fusion: applies to hybrid queries'],
    [{ text: 'library', vector: [1], id: 'a' }, 'expected either "vector" or "id"'],
    [{ text: 'library', id: 'zlib1g', topK: 20, fusion: { candidates: 10 } }, 'fusion.candidates'],
    [{ text: 'library', id: 'zlib1g', fusion: { textWeight: 0, vectorWeight: 0 } }, 'above 0'],
    [{ text: 'library', id: 'zlib1g', fusion: { k: -1 } }, 'fusion.k'],
    [{ text: 'library', efSearch: 50 }, 'efSearch: applies to vector search'],
    [{ text: 'library', explain: true }, 'explain: applies to vector queries'],
    [{ queries: [{ text: 'library' }] }, 'queries.0.text: text queries are not batched'],
    [{ text: 7 }, 'expected a string text'],
    [{ text: 'a\u0000b' }, 'NUL'],
    [{ text: 'x'.repeat(100 * 1024) }, 'at most 4096 characters'],
  ]
  it.each(refused.map(([body, message]) => [JSON.stringify(body).slice(0, 80), body, message]))(
    'refuses %s',
    async (_label, body, message) => {
      const response = await post(`vectors/${DOCS}/query`, body, admin)
      expect(response.status).toBe(400)
      expect(response.body.error.message).toContain(message)
    },
  )

  it('takes up to 8 search terms, which bounds what ts_rank_cd costs', async () => {
    const eight = 'library or perl or python or shared or module or tool or data or file'
    expect((await post(`vectors/${DOCS}/query`, { text: eight }, admin)).status).toBe(200)
    const nine = `${eight} or system`
    const response = await post(`vectors/${DOCS}/query`, { text: nine }, admin)
    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain(
      'text: too many search terms (17 words and operators, at most 15)',
    )
  })

  it('answers hostile text with 200 or 400, never a 5xx, and changes nothing', async () => {
    const hostile = [
      "'; drop table public.t_hybrid_docs; --",
      "library' or '1'='1",
      '\\',
      '"unbalanced quote',
      "it's 'half",
      'a & b | c ! d <-> e <2> f',
      '!library & (shared | perl) <-> module',
      'library:* | lib:A & !!x',
      '(((((( library',
      ')))))',
      '""""""""',
      '-library -perl',
      'or or or and not',
      '$1 $2 ::regconfig',
      'Ω≈ç√∫ 😀 \u200b library',
      'library '.repeat(500),
      'a or '.repeat(300) + 'b',
      'x'.repeat(4096),
    ]
    const before = await sql.unsafe(`select count(*)::int as n from public.${DOCS}`)
    for (const text of hostile) {
      for (const body of [{ text }, { text, vector: projectWords('library', DIMENSIONS) }]) {
        const response = await post(`vectors/${DOCS}/query`, body, admin)
        expect([200, 400], text.slice(0, 40)).toContain(response.status)
        if (response.status === 400) expect(response.body.error.message).toMatch(/^text/)
      }
    }
    const after = await sql.unsafe(`select count(*)::int as n from public.${DOCS}`)
    expect(after).toEqual(before)
    const rpc = await sql.unsafe(
      `select count(*)::int as n from public.hybrid_${DOCS}($1, $2::extensions.vector, 5)`,
      [hostile[0]!, JSON.stringify(projectWords('x', DIMENSIONS))],
    )
    expect(rpc[0]!.n).toBeGreaterThanOrEqual(0)
  })
})

describe('Supabase tooling', () => {
  it('keeps the database linter clean with text collections (supabase db advisors)', async () => {
    const { stdout, stderr } = await supabaseCli(['db', 'advisors', `--remote=${stack.dbUrl}`], {
      env: databaseEnv(stack.dbUrl),
    })
    expect(`${stdout}${stderr}`).toContain('No issues found')
  }, 120_000)
})
