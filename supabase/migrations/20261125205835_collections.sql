-- What every collection shares. A collection is a table made by `npm run collection:new`
-- (id text, embedding of a pgvector type, metadata jsonb); its own migration creates it.
-- The `vectors` edge function finds collections by the comment on their table and learns
-- their type, dimensions, metric and index from the catalog.

-- Keeps updated_at true however a row is changed: through the vectors function, the RPC
-- match function's table, or plain SQL.
create function public.matchbox_touch_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function public.matchbox_touch_updated_at() is
  'Trigger function: sets updated_at on every update of a Matchbox collection row.';

revoke all on function public.matchbox_touch_updated_at() from public, anon, authenticated;
