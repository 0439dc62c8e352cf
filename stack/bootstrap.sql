-- Gives a plain postgres what a Supabase database already has, so that the migrations in
-- supabase/migrations apply unchanged to both: the API roles, the `auth` helpers that
-- policies call, and the `extensions` schema.
--
-- Idempotent, and a no-op on a real Supabase database (recognised by its supabase_admin
-- role), whose own definitions must not be touched.
do $bootstrap$
begin
  if exists (select from pg_roles where rolname = 'supabase_admin') then
    raise notice 'supabase database detected: bootstrap skipped';
    return;
  end if;

  -- The roles PostgREST and the edge functions switch to per request. None may log in;
  -- the connection's own user takes them on with `set role`.
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- A non-superuser connection must be a member to `set role`; a superuser need not be.
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant anon, authenticated, service_role to %I', current_user);
  end if;

  create schema if not exists extensions;
  grant usage on schema extensions to anon, authenticated, service_role;
  grant usage on schema public to anon, authenticated, service_role;

  create schema if not exists auth;
  grant usage on schema auth to anon, authenticated, service_role;

  -- The claims of the request's JWT, as PostgREST and the edge functions set them.
  create or replace function auth.jwt() returns jsonb
    language sql stable set search_path = ''
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claims', true), ''),
        '{}'
      )::jsonb
    $fn$;

  create or replace function auth.role() returns text
    language sql stable set search_path = ''
    as $fn$ select auth.jwt() ->> 'role' $fn$;

  create or replace function auth.uid() returns uuid
    language sql stable set search_path = ''
    as $fn$ select nullif(auth.jwt() ->> 'sub', '')::uuid $fn$;

  grant execute on function auth.jwt(), auth.role(), auth.uid()
    to anon, authenticated, service_role;
end
$bootstrap$;
