-- pgvector gives postgres the vector types, distance operators and the hnsw index.
-- Supabase keeps extensions out of `public` (advisor 0014), so it lives in `extensions`
-- and everything that uses it qualifies its names.
create schema if not exists extensions;

create extension if not exists vector with schema extensions;
