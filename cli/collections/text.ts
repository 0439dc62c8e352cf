/**
 * The full-text part of a text collection's migration (`collection:new … --text`): the
 * `content` column, its generated `fts` tsvector with a GIN index, a check that the database
 * has the text search configuration, and the `hybrid_<name>` RPC function that fuses keyword
 * and vector ranks as Supabase's documented `hybrid_search` does.
 */
import { METRIC_OPERATORS } from '../../supabase/functions/_shared/vector-kinds.ts'
import type { CollectionSpec } from './spec.ts'

/** The text search configuration a text collection uses unless `--language` names another. */
export const DEFAULT_TEXT_LANGUAGE = 'english'

/**
 * A text search configuration's name, optionally schema-qualified (`english`,
 * `public.my_config`): lowercase, so that it is safe inside the migration's SQL text.
 */
export const TEXT_LANGUAGE = /^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/

/** Rows each side of `hybrid_<name>` ranks: `max(2 * match_count, 40)`, as the HTTP query does. */
const RPC_CANDIDATES = 'least(greatest(2 * match_count, 40), 1000)'

/**
 * Fails the migration, before anything is created, when the database has no text search
 * configuration called `language`, naming those it has. (Applied with `db push`, so the check
 * is against the database the collection goes into, local or hosted.)
 */
export function textLanguageCheck(language: string): string {
  const [schema, config] = language.includes('.') ? language.split('.') : [undefined, language]
  const where = schema
    ? `n.nspname = '${schema}' and c.cfgname = '${config}'`
    : `c.cfgname = '${config}' and pg_catalog.pg_ts_config_is_visible(c.oid)`
  return `-- The text search configuration must exist in this database; the error lists those that do.
do $$
begin
  if not exists (
    select from pg_catalog.pg_ts_config as c
    join pg_catalog.pg_namespace as n on n.oid = c.cfgnamespace
    where ${where}
  ) then
    raise exception 'text search configuration "${language}" does not exist: use --language with one of %',
      (select pg_catalog.string_agg(cfgname, ', ' order by cfgname) from pg_catalog.pg_ts_config);
  end if;
end
$$;
`
}

/** The lines the table gains, inside `create table`: the text and its search vector. */
export function textColumns(language: string): string {
  return `
  content text check (content is null or length(content) <= 1000000),
  fts tsvector generated always as (to_tsvector('${language}'::regconfig, coalesce(content, ''))) stored,`
}

/** The GIN index that serves `fts @@ query` for keyword search. */
export function textIndex(name: string): string {
  return `
-- Serves \`fts @@ websearch_to_tsquery(…)\`: the keyword side of text and hybrid queries.
create index ${name}_fts_idx on public.${name} using gin (fts);
`
}

/**
 * The `hybrid_<name>` RPC function: Supabase's `hybrid_search` arguments, in its order, plus a
 * metadata filter. Each side ranks its best max(2 * match_count, 40) rows among those the
 * filter and the caller's policies let through; a row's score is the sum, over the sides that
 * found it, of weight / (rrf_k + rank). Security invoker, so row-level security applies.
 */
export function hybridFunctionSql(spec: CollectionSpec, type: string): string {
  const { name } = spec
  const language = spec.text!.language
  const table = `public.${name}`
  const operator = `operator(extensions.${METRIC_OPERATORS[spec.metric]})`
  const signature = `text, ${type}, int, double precision, double precision, int, jsonb`
  return `
-- For RPC callers (supabase.rpc('hybrid_${name}', …)): keyword and vector search fused by
-- weighted reciprocal rank. Ties go to the nearer vector, then to the smaller id.
create function public.hybrid_${name}(
  query_text text,
  query_embedding ${type},
  match_count int,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k int default 50,
  filter jsonb default '{}'::jsonb
)
returns table (
  id text,
  metadata jsonb,
  content text,
  score double precision,
  text_rank int,
  vector_rank int,
  distance double precision
)
language sql
stable
security invoker
set search_path = ''
set ${spec.index}.iterative_scan = relaxed_order
as $$
  with full_text as (
    select k.id, (row_number() over (order by k.rank desc, k.id))::int as rank
    from (
      select c.id, pg_catalog.ts_rank_cd(c.fts, q.query) as rank
      from ${table} as c,
        pg_catalog.websearch_to_tsquery('${language}'::regconfig, query_text) as q(query)
      where c.fts @@ q.query and c.metadata @> filter
      order by pg_catalog.ts_rank_cd(c.fts, q.query) desc, c.id
      limit ${RPC_CANDIDATES}
    ) as k
  ),
  semantic as (
    select s.id, s.distance, (row_number() over (order by s.distance, s.id))::int as rank
    from (
      select c.id, c.embedding ${operator} query_embedding as distance
      from ${table} as c
      where c.embedding is not null and c.metadata @> filter
      order by c.embedding ${operator} query_embedding
      limit ${RPC_CANDIDATES}
    ) as s
  )
  select c.id, c.metadata, c.content, f.score, f.text_rank, f.vector_rank, f.distance
  from (
    select coalesce(t.id, v.id) as id,
      coalesce(full_text_weight / (greatest(rrf_k, 0) + t.rank), 0)
        + coalesce(semantic_weight / (greatest(rrf_k, 0) + v.rank), 0) as score,
      t.rank as text_rank, v.rank as vector_rank, v.distance
    from full_text as t
    full outer join semantic as v on v.id = t.id
  ) as f
  join ${table} as c on c.id = f.id
  order by f.score desc, f.distance asc nulls last, f.id
  limit least(greatest(match_count, 0), 1000);
$$;

revoke all on function public.hybrid_${name}(${signature}) from public;
grant execute on function public.hybrid_${name}(${signature}) to ${spec.access === 'public' ? 'anon, ' : ''}authenticated, service_role;
`
}
