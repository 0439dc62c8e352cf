/** Where the project's parts live, from the repository root, whatever the working directory. */
import { fileURLToPath } from 'node:url'
import path from 'node:path'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url))

/** The `supabase/` folder the CLI works in. */
export const SUPABASE_DIR = path.join(ROOT, 'supabase')

/** Local state: the embedded database and the running stack's description. Git-ignored. */
export const STATE_DIR = path.join(ROOT, '.matchbox')

/** The embedded database's files. */
export const DEFAULT_DATA_DIR = path.join(STATE_DIR, 'db')

/** A binary installed by npm, e.g. `supabase` or `deno`. */
export function binary(name: string): string {
  return path.join(ROOT, 'node_modules', '.bin', name)
}
