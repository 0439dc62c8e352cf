/**
 * Every statement a function sends runs inside its transaction, after the caller's role,
 * claims and settings are set: a trigger records who inserted each row, and the plan of a
 * query shows the scan settings in effect. (postgres.js sends a query only when it is first
 * awaited: sent lazily, the setup went out after the work's first statement.)
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, stack } from '../support/http.ts'
import { createCollection, dropCollection } from '../support/vectors.ts'

const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} })
const NAME = 't_order'

beforeAll(async () => {
  await createCollection(sql, { name: NAME, dimensions: 3 })
  await sql.unsafe(`
    create function public.${NAME}_by() returns trigger language plpgsql set search_path = '' as $$
    begin
      new.metadata := new.metadata || jsonb_build_object(
        'by', current_user::text,
        'claims_role', current_setting('request.jwt.claims', true)::jsonb ->> 'role');
      return new;
    end $$;
    create trigger ${NAME}_by before insert on public.${NAME}
      for each row execute function public.${NAME}_by();`)
})
afterAll(async () => {
  await dropCollection(sql, NAME)
  await sql.unsafe(`drop function if exists public.${NAME}_by()`)
  await sql.end()
})

describe('the order of a transaction on the wire', () => {
  it("runs a write's first statement as the caller's role, with its claims", async () => {
    const answer = await post(
      `vectors/${NAME}/upsert`,
      { records: [{ id: 'a', values: [1, 2, 3] }] },
      { key: stack.serviceRoleKey },
    )
    expect(answer.status).toBe(200)
    const [row] = await sql.unsafe(`select metadata from public.${NAME} where id = 'a'`)
    expect(row!.metadata).toMatchObject({ by: 'service_role', claims_role: 'service_role' })
  })

  it('runs the items insert as the caller too', async () => {
    const [before] = await sql`select coalesce(max(id), 0) as id from public.items`
    await sql.unsafe(`
      create or replace function public.items_by_check() returns trigger language plpgsql set search_path = '' as $$
      begin
        if current_user::text <> 'service_role' then
          raise exception 'items insert ran as %', current_user;
        end if;
        return new;
      end $$;
      create trigger items_by_check before insert on public.items
        for each row execute function public.items_by_check();`)
    try {
      const answer = await post(
        'items',
        { items: [{ embedding: [1, 2, 3] }] },
        { key: stack.serviceRoleKey },
      )
      expect(answer.status, JSON.stringify(answer.body)).toBe(201)
    } finally {
      await sql.unsafe(`
        drop trigger items_by_check on public.items;
        drop function public.items_by_check();
        delete from public.items where id > ${Number(before!.id)};`)
    }
  })
})
