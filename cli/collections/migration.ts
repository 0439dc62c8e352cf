/**
 * The SQL of a collection's migration: its table, vector and metadata indexes, row-level
 * security for its access mode (public, owner or tenant), and an RPC match function, all
 * derived from one CollectionSpec.
 */
import { METRIC_OPERATORS, operatorClass } from '../../supabase/functions/_shared/vector-kinds.ts'
import { declaredFieldSql } from '../../supabase/functions/vectors/fields.ts'
import { COLLECTION_MARKER } from '../../supabase/functions/vectors/shape.ts'
import type { CollectionSpec } from './spec.ts'
import { hybridFunctionSql, textColumns, textIndex, textLanguageCheck } from './text.ts'

export { COLLECTION_MARKER }

/** The column type of a collection's embeddings, e.g. `extensions.vector(384)`. */
export function columnType(spec: Pick<CollectionSpec, 'type' | 'dimensions'>): string {
  // bit is a core Postgres type; the others are pgvector's, kept in `extensions`.
  const schema = spec.type === 'bit' ? '' : 'extensions.'
  return `${schema}${spec.type}(${spec.dimensions})`
}

/** The whole migration for `spec`; the name is checked, so it is safe in SQL text. */
export function collectionMigrationSql(spec: CollectionSpec): string {
  const { name } = spec
  const table = `public.${name}`
  const type = columnType(spec)
  const operator = `operator(extensions.${METRIC_OPERATORS[spec.metric]})`
  // pgvector's operator classes, bit's included, live in its schema.
  const opclass = `extensions.${operatorClass(spec.type, spec.metric)}`
  const withOptions =
    spec.index === 'hnsw'
      ? `m = ${spec.m}, ef_construction = ${spec.efConstruction}`
      : `lists = ${spec.lists}`
  const indexDescription =
    spec.index === 'hnsw'
      ? `hnsw (m = ${spec.m}, ef_construction = ${spec.efConstruction})`
      : `ivfflat (lists = ${spec.lists})`

  return `-- Collection "${name}": ${spec.type}(${spec.dimensions}) embeddings, ${spec.metric} distance, ${indexDescription}.
-- Written by \`collection new\` (npm run collection:new, or npx matchbox-vectors collection new).
-- The vectors edge function finds the collection by the comment on its table and reads its type,
-- dimensions, metric, index and access from the catalog.

${spec.text ? textLanguageCheck(spec.text.language) : ''}
create table ${table} (
  id text primary key check (id <> '' and length(id) <= 512),
  embedding ${type}${spec.text ? '' : ' not null'},
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),${ownershipColumn(spec)}${spec.text ? textColumns(spec.text.language) : ''}
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()${
    // A text collection's record has a vector, a text, or both.
    spec.text
      ? `,\n  constraint ${name}_vector_or_text check (embedding is not null or content is not null)`
      : ''
  }
);

comment on table ${table} is '${COLLECTION_MARKER} ${markerJson(spec)}';

-- The operator class matches the metric, so \`order by embedding ${METRIC_OPERATORS[spec.metric]} query\` uses the index.
create index ${name}_embedding_idx on ${table}
  using ${spec.index} (embedding ${opclass})
  with (${withOptions});

-- jsonb_path_ops serves containment (@>), which metadata equality filters compile to.
create index ${name}_metadata_idx on ${table} using gin (metadata jsonb_path_ops);
${ownershipIndex(spec)}${spec.text ? textIndex(name) : ''}
create trigger ${name}_touch_updated_at
  before update on ${table}
  for each row execute function public.matchbox_touch_updated_at();

alter table ${table} enable row level security;

revoke all on table ${table} from anon, authenticated, service_role;
${accessRules(spec)}

-- For RPC callers (supabase.rpc('match_${name}', …)): the match_count nearest rows whose
-- metadata contains \`filter\`. The iterative scan keeps searching the index until enough
-- rows pass the filter; relaxed order is re-sorted by the outer query.
create function public.match_${name}(
  query_embedding ${type},
  match_count int default 10,
  filter jsonb default '{}'::jsonb
)
returns table (id text, metadata jsonb, distance double precision)
language sql
stable
security invoker
set search_path = ''
set ${spec.index}.iterative_scan = relaxed_order
as $$
  select found.id, found.metadata, found.distance
  from (
    select c.id, c.metadata, c.embedding ${operator} query_embedding as distance
    from ${table} as c
    where c.metadata @> filter${spec.text ? ' and c.embedding is not null' : ''}
    order by c.embedding ${operator} query_embedding
    limit least(greatest(match_count, 0), 1000)
  ) as found
  order by found.distance;
$$;

revoke all on function public.match_${name}(${type}, int, jsonb) from public;
grant execute on function public.match_${name}(${type}, int, jsonb) to ${spec.access === 'public' ? 'anon, ' : ''}authenticated, service_role;
${spec.text ? hybridFunctionSql(spec, type) : ''}${declaredFieldsSql(spec)}`
}

/**
 * The marker comment's JSON: the declared metric, and the access mode unless it is public
 * (so that the comments of collections made before access modes still read the same).
 */
function markerJson(spec: CollectionSpec): string {
  return JSON.stringify(
    spec.access === 'public'
      ? { metric: spec.metric }
      : { metric: spec.metric, access: spec.access },
  )
}

/**
 * The caller's owner or tenant as policies compare it, in a subselect so that Postgres
 * evaluates it once per statement, not once per row (Supabase's advice for RLS performance).
 */
export const OWNERSHIP = {
  owner: { column: 'owner_id', caller: '(select auth.uid())' },
  tenant: { column: 'tenant_id', caller: "(select auth.jwt() -> 'app_metadata' ->> 'tenant_id')" },
} as const

function ownershipColumn(spec: CollectionSpec): string {
  if (spec.access === 'owner') return '\n  owner_id uuid not null default auth.uid(),'
  if (spec.access === 'tenant') {
    return "\n  tenant_id text not null default (auth.jwt() -> 'app_metadata' ->> 'tenant_id') check (tenant_id <> ''),"
  }
  return ''
}

function ownershipIndex(spec: CollectionSpec): string {
  if (spec.access === 'public') return ''
  const { column } = OWNERSHIP[spec.access]
  return `
-- Serves the ${column} condition of every user's statement (policy and query alike), and with
-- id second, a user's listing in id order.
create index ${spec.name}_${column}_idx on public.${spec.name} (${column}, id);
`
}

/** Grants and row-level security policies for the collection's access mode. */
function accessRules(spec: CollectionSpec): string {
  const { name } = spec
  const table = `public.${name}`
  const serviceRole = `grant select, insert, update, delete on table ${table} to service_role;

create policy "service role manages ${name}"
  on ${table} for all
  to service_role
  using (true)
  with check (true);`
  if (spec.access === 'public') {
    return `grant select on table ${table} to anon, authenticated;
${serviceRole}

create policy "${name} is readable by everyone"
  on ${table} for select
  to anon, authenticated
  using (true);`
  }
  const { column, caller } = OWNERSHIP[spec.access]
  const whose = spec.access === 'owner' ? 'their own rows' : "their tenant's rows"
  const mine = `${column} = ${caller}`
  const text = spec.text ? ', content' : ''
  return `-- anon gets nothing. Users write id, embedding and metadata; ${column} comes from their
-- token (its default), and only service_role may set or change it.
grant select, delete on table ${table} to authenticated;
grant insert (id, embedding, metadata${text}), update (embedding, metadata${text}) on table ${table} to authenticated;
${serviceRole}

create policy "users read ${whose} of ${name}"
  on ${table} for select
  to authenticated
  using (${mine});

create policy "users add ${whose} to ${name}"
  on ${table} for insert
  to authenticated
  with check (${mine});

create policy "users change ${whose} of ${name}"
  on ${table} for update
  to authenticated
  using (${mine})
  with check (${mine});

create policy "users delete ${whose} of ${name}"
  on ${table} for delete
  to authenticated
  using (${mine});`
}

/** The declared fields' indexes (`--index-field`), which equality, range and $in filters use. */
function declaredFieldsSql(spec: CollectionSpec): string {
  if (!spec.fields?.length) return ''
  return `
-- Declared metadata fields: a btree on each one's typed value, for equality, ranges and $in.
${spec.fields.map((field) => declaredFieldSql(spec.name, field)).join('')}`
}
