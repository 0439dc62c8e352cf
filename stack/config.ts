/**
 * The parts of `supabase/config.toml` the local stack honours: the API and database ports,
 * Studio's port (the playground takes Studio's place locally) and each function's
 * `verify_jwt` and `entrypoint`, so that local and hosted agree.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'smol-toml'
import { SUPABASE_DIR } from './paths.ts'

/** One edge function as config.toml and the functions folder describe it. */
export interface FunctionConfig {
  name: string
  verifyJwt: boolean
  /** Absolute path of the module that default-exports `{ fetch }`. */
  entrypoint: string
}

/** What the local stack reads from config.toml. */
export interface ProjectConfig {
  apiPort: number
  dbPort: number
  /** The playground's port: `[studio] port`, since it is the local stack's Studio. */
  playgroundPort: number
  functions: FunctionConfig[]
}

interface RawConfig {
  api?: { port?: number }
  db?: { port?: number }
  studio?: { port?: number }
  functions?: Record<string, { enabled?: boolean; verify_jwt?: boolean; entrypoint?: string }>
}

/** Reads config.toml and lists the functions in `supabase/functions/` (not `_shared`). */
export function readProjectConfig(supabaseDir = SUPABASE_DIR): ProjectConfig {
  const raw = parse(readFileSync(path.join(supabaseDir, 'config.toml'), 'utf8')) as RawConfig
  const functionsDir = path.join(supabaseDir, 'functions')
  const names = readdirSync(functionsDir, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && !entry.name.startsWith('_') && !entry.name.startsWith('.'),
    )
    .map((entry) => entry.name)
    .sort()
  const functions: FunctionConfig[] = []
  for (const name of names) {
    const settings = raw.functions?.[name] ?? {}
    if (settings.enabled === false) continue
    const entrypoint = settings.entrypoint
      ? path.resolve(supabaseDir, settings.entrypoint)
      : path.join(functionsDir, name, 'index.ts')
    if (!existsSync(entrypoint)) continue
    // Supabase verifies JWTs unless a function opts out; so does the local gateway.
    functions.push({ name, verifyJwt: settings.verify_jwt !== false, entrypoint })
  }
  return {
    apiPort: raw.api?.port ?? 54321,
    dbPort: raw.db?.port ?? 54322,
    playgroundPort: raw.studio?.port ?? 54323,
    functions,
  }
}
