-- The tutorial's search: the match_count items nearest to query_embedding by cosine distance.
--
-- The query has the one shape the hnsw index serves: `order by embedding <=> query limit n`,
-- ascending, with the operator of the index's operator class. `security invoker` keeps the
-- caller's row-level security in force; the empty search_path (advisor 0011) is why every
-- name is qualified.
--
-- hnsw returns at most hnsw.ef_search (default 40) rows from one scan. match_count may go
-- up to 200, so the function turns on pgvector's strict iterative scan: the index keeps
-- searching until it has match_count rows, in exact distance order.

create function public.match_items(query_embedding extensions.vector(3), match_count int)
returns table (id bigint, embedding extensions.vector(3), distance double precision)
language sql
stable
security invoker
set search_path = ''
set hnsw.iterative_scan = strict_order
as $$
  select
    items.id,
    items.embedding,
    items.embedding operator(extensions.<=>) query_embedding as distance
  from public.items
  order by items.embedding operator(extensions.<=>) query_embedding
  limit least(greatest(match_count, 0), 200);
$$;

comment on function public.match_items(extensions.vector, int) is
  'The match_count (at most 200) items nearest to query_embedding by cosine distance, nearest first.';

revoke all on function public.match_items(extensions.vector, int) from public;
grant execute on function public.match_items(extensions.vector, int)
  to anon, authenticated, service_role;
