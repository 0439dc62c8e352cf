/**
 * The SQL of a collection's migration: its table, vector and metadata indexes, row-level
 * security, and an RPC match function, all derived from one CollectionSpec.
 */
import { METRIC_OPERATORS, operatorClass } from '../../supabase/functions/_shared/vector-kinds.ts'
import { COLLECTION_MARKER } from '../../supabase/functions/vectors/shape.ts'
import type { CollectionSpec } from './spec.ts'

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
-- Written by \`npm run collection:new\`. The vectors edge function finds the collection by the
-- comment on its table and reads its type, dimensions, metric and index from the catalog.

create table ${table} (
  id text primary key check (id <> '' and length(id) <= 512),
  embedding ${type} not null,
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table ${table} is '${COLLECTION_MARKER} {"metric":"${spec.metric}"}';

-- The operator class matches the metric, so \`order by embedding ${METRIC_OPERATORS[spec.metric]} query\` uses the index.
create index ${name}_embedding_idx on ${table}
  using ${spec.index} (embedding ${opclass})
  with (${withOptions});

-- jsonb_path_ops serves containment (@>), which metadata equality filters compile to.
create index ${name}_metadata_idx on ${table} using gin (metadata jsonb_path_ops);

create trigger ${name}_touch_updated_at
  before update on ${table}
  for each row execute function public.matchbox_touch_updated_at();

alter table ${table} enable row level security;

revoke all on table ${table} from anon, authenticated, service_role;
grant select on table ${table} to anon, authenticated;
grant select, insert, update, delete on table ${table} to service_role;

create policy "${name} is readable by everyone"
  on ${table} for select
  to anon, authenticated
  using (true);

create policy "service role manages ${name}"
  on ${table} for all
  to service_role
  using (true)
  with check (true);

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
    where c.metadata @> filter
    order by c.embedding ${operator} query_embedding
    limit least(greatest(match_count, 0), 1000)
  ) as found
  order by found.distance;
$$;

revoke all on function public.match_${name}(${type}, int, jsonb) from public;
grant execute on function public.match_${name}(${type}, int, jsonb) to anon, authenticated, service_role;
`
}
