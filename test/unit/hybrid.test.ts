/** Reciprocal rank fusion, and the text part of a collection's definition and migration. */
import { describe, expect, it } from 'vitest'
import { collectionMigrationSql } from '../../cli/collections/migration.ts'
import { CollectionSpecError, parseCollectionSpec } from '../../cli/collections/spec.ts'
import { QueryRequest } from '../../supabase/functions/_shared/vectors-contract.ts'
import {
  DEFAULT_FUSION,
  defaultCandidates,
  fuseRankings,
} from '../../supabase/functions/vectors/fusion.ts'

describe('fuseRankings', () => {
  it('scores Σ weight / (k + rank) over the sides that found a row', () => {
    const fused = fuseRankings(
      ['a', 'b', 'c'],
      [
        { id: 'c', distance: 0.1 },
        { id: 'd', distance: 0.2 },
      ],
      { k: 10, textWeight: 2, vectorWeight: 1 },
      10,
    )
    expect(fused).toEqual([
      { id: 'c', score: 2 / 13 + 1 / 11, ranks: { text: 3, vector: 1 }, distance: 0.1 },
      { id: 'a', score: 2 / 11, ranks: { text: 1, vector: null } },
      { id: 'b', score: 2 / 12, ranks: { text: 2, vector: null } },
      { id: 'd', score: 1 / 12, ranks: { text: null, vector: 2 }, distance: 0.2 },
    ])
  })

  it('breaks ties by distance (rows the vector side missed last), then by id', () => {
    // Equal scores: text rank 1 alone, vector rank 1 alone; and two rows at text rank = vector rank.
    const fused = fuseRankings(
      ['t', 'x'],
      [
        { id: 'v', distance: 0.5 },
        { id: 'y', distance: 0.5 },
      ],
      DEFAULT_FUSION,
      4,
    )
    expect(fused.map((row) => row.id)).toEqual(['v', 't', 'y', 'x'])
    const same = fuseRankings(
      [],
      [
        { id: 'b', distance: 0.3 },
        { id: 'a', distance: 0.3 },
      ],
      { k: 50, textWeight: 1, vectorWeight: 0 },
      2,
    )
    expect(same.map((row) => row.id)).toEqual(['a', 'b'])
  })

  it('answers the topK best, and with one weight 0 the other side decides', () => {
    const text = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`)
    const vector = text.toReversed().map((id, i) => ({ id, distance: i }))
    const byText = fuseRankings(text, vector, { k: 0, textWeight: 1, vectorWeight: 0 }, 5)
    expect(byText.map((row) => row.id)).toEqual(text.slice(0, 5))
    const byVector = fuseRankings(text, vector, { k: 0, textWeight: 0, vectorWeight: 1 }, 5)
    expect(byVector.map((row) => row.id)).toEqual(vector.slice(0, 5).map((row) => row.id))
  })

  it('ranks candidates max(2 * topK, 40) by default, within 1000', () => {
    expect([1, 10, 20, 21, 400, 1000].map(defaultCandidates)).toEqual([40, 40, 40, 42, 800, 1000])
  })
})

describe('the query contract', () => {
  it('takes text alone, or with a vector or an id, and fusion only with text', () => {
    expect(QueryRequest.safeParse({ text: 'a' }).success).toBe(true)
    expect(QueryRequest.safeParse({ text: 'a', vector: [1], fusion: { k: 1 } }).success).toBe(true)
    expect(QueryRequest.safeParse({ text: 'a', id: 'x', vector: [1] }).success).toBe(false)
    expect(QueryRequest.safeParse({ vector: [1], fusion: {} }).success).toBe(false)
    expect(QueryRequest.safeParse({}).success).toBe(false)
    const fusion = QueryRequest.parse({ text: 'a', id: 'x', fusion: {} }).fusion
    expect(fusion).toEqual({ k: 50, textWeight: 1, vectorWeight: 1 })
    for (const bad of [{ k: -1 }, { textWeight: -1 }, { textWeight: 0, vectorWeight: 0 }]) {
      expect(QueryRequest.safeParse({ text: 'a', id: 'x', fusion: bad }).success).toBe(false)
    }
  })
})

describe('text collections: spec and migration', () => {
  it('--text defaults to english; --language needs --text and a configuration name', () => {
    expect(parseCollectionSpec({ name: 'docs', dimensions: 3, text: true }).text).toEqual({
      language: 'english',
    })
    expect(
      parseCollectionSpec({ name: 'docs', dimensions: 3, text: true, language: 'public.my_cfg' })
        .text,
    ).toEqual({ language: 'public.my_cfg' })
    expect(parseCollectionSpec({ name: 'docs', dimensions: 3 }).text).toBeUndefined()
    expect(() => parseCollectionSpec({ name: 'docs', dimensions: 3, language: 'german' })).toThrow(
      '--language needs --text',
    )
    for (const language of ["english'", 'English', 'a b', '', 'x.y.z']) {
      expect(() =>
        parseCollectionSpec({ name: 'docs', dimensions: 3, text: true, language }),
      ).toThrow(CollectionSpecError)
    }
  })

  it('adds content, fts, its GIN index, the language check and hybrid_<name>', () => {
    const sql = collectionMigrationSql(
      parseCollectionSpec({ name: 'docs', dimensions: 3, text: true, language: 'german' }),
    )
    expect(sql).toContain(
      "fts tsvector generated always as (to_tsvector('german'::regconfig, coalesce(content, ''))) stored",
    )
    expect(sql).toContain('create index docs_fts_idx on public.docs using gin (fts)')
    expect(sql).toContain("c.cfgname = 'german' and pg_catalog.pg_ts_config_is_visible(c.oid)")
    expect(sql).toMatch(
      /create function public\.hybrid_docs\(\s+query_text text,\s+query_embedding extensions\.vector\(3\),\s+match_count int,\s+full_text_weight double precision default 1,\s+semantic_weight double precision default 1,\s+rrf_k int default 50,\s+filter jsonb default/,
    )
    expect(sql).toMatch(/security invoker\nset search_path = ''/)
    expect(sql.indexOf('do $$')).toBeLessThan(sql.indexOf('create table'))
  })

  it('lets owners write their text, and leaves collections without --text as they were', () => {
    const owner = collectionMigrationSql(
      parseCollectionSpec({ name: 'docs', dimensions: 3, text: true, access: 'owner' }),
    )
    expect(owner).toContain(
      'grant insert (id, embedding, metadata, content), update (embedding, metadata, content)',
    )
    expect(owner).toContain(
      'grant execute on function public.hybrid_docs(text, extensions.vector(3), int, double precision, double precision, int, jsonb) to authenticated, service_role',
    )
    const plain = collectionMigrationSql(parseCollectionSpec({ name: 'docs', dimensions: 3 }))
    expect(plain).not.toMatch(/content|fts|hybrid_/)
  })
})
