/**
 * `matchbox init`: adds Matchbox to an existing Supabase project — its migrations (renamed
 * with fresh timestamps after the project's last one), its edge functions, and their
 * `[functions.*]` entries in config.toml — without touching anything the project already has.
 *
 * Matchbox's `_shared` folder is copied as `_matchbox`, and the copied functions import
 * `../_matchbox/…` instead of `../_shared/…`: the project's own `_shared` is never read or
 * written. Everything is planned before anything is written: a file that exists with other
 * content refuses the whole run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { freshTimestamps, migrationFiles, parseMigrationFile } from './migration-files.ts'

/** Matchbox's functions, deployed under these names. */
export const MATCHBOX_FUNCTIONS = ['items', 'match-items', 'vectors'] as const

/** The folder Matchbox's shared function code goes to in a project, beside its own `_shared`. */
export const SHARED_FOLDER = '_matchbox'

/** Prefix of Matchbox's migrations in a project, after the timestamp: `<ts>_matchbox_items.sql`. */
const MIGRATION_PREFIX = 'matchbox_'

/** One file init writes, or finds already in place. */
export interface PlannedFile {
  /** Relative to the project folder, with `/`. */
  path: string
  content: string
  /** `create`: new; `unchanged`: already there with this content; `update`: config.toml. */
  action: 'create' | 'unchanged' | 'update'
}

/** What init would do in a project, or why it refuses. */
export interface InitPlan {
  files: PlannedFile[]
  /** Files that exist with other content: init writes nothing while there are any. */
  conflicts: string[]
  /** The `[functions.*]` tables init adds to config.toml. */
  addedFunctions: string[]
}

/** The parts of the package init copies from. */
export interface InitSource {
  /** The package's `supabase/` folder. */
  supabaseDir: string
}

/** A refusal: no Supabase project here, or a conflict. */
export class InitError extends Error {
  override name = 'InitError'
}

/**
 * Works out every write, reading only.
 *
 * @param projectDir the folder that holds `supabase/config.toml`.
 */
export function planInit(projectDir: string, source: InitSource, now = new Date()): InitPlan {
  const supabaseDir = path.join(projectDir, 'supabase')
  const configPath = path.join(supabaseDir, 'config.toml')
  if (!existsSync(configPath)) {
    throw new InitError(
      `no supabase/config.toml in ${projectDir}: run \`npx supabase init\` there first, or pass --workdir <project>`,
    )
  }
  const files: PlannedFile[] = []
  const conflicts: string[] = []
  const want = (relative: string, content: string) => {
    const absolute = path.join(projectDir, relative)
    if (!existsSync(absolute)) {
      files.push({ path: relative, content, action: 'create' })
    } else if (statSync(absolute).isFile() && readFileSync(absolute, 'utf8') === content) {
      files.push({ path: relative, content, action: 'unchanged' })
    } else {
      conflicts.push(relative)
    }
  }

  planMigrations(supabaseDir, source, now, files, conflicts)
  for (const file of functionFiles(source.supabaseDir)) {
    want(path.posix.join('supabase', 'functions', file.path), file.content)
  }
  const config = planConfig(configPath, conflicts)
  if (config.content !== undefined) {
    files.push({ path: 'supabase/config.toml', content: config.content, action: 'update' })
  }
  return { files, conflicts, addedFunctions: config.added }
}

/** Writes a plan that has no conflicts. */
export function applyInit(projectDir: string, plan: InitPlan): void {
  if (plan.conflicts.length > 0) throw new InitError('refusing to write: the plan has conflicts')
  for (const file of plan.files) {
    if (file.action === 'unchanged') continue
    const absolute = path.join(projectDir, file.path)
    mkdirSync(path.dirname(absolute), { recursive: true })
    // A new file must still be new: `wx` refuses one that appeared since the plan.
    writeFileSync(absolute, file.content, { flag: file.action === 'create' ? 'wx' : 'w' })
  }
}

/**
 * Matchbox's migrations, each once: already present (same name after the timestamp, same
 * content) is left alone; present with other content is a conflict; missing ones get fresh
 * timestamps after the project's last migration, in Matchbox's order.
 */
function planMigrations(
  supabaseDir: string,
  source: InitSource,
  now: Date,
  files: PlannedFile[],
  conflicts: string[],
): void {
  const projectDir = path.join(supabaseDir, 'migrations')
  const present = new Map<string, string>()
  for (const file of migrationFiles(projectDir)) {
    const { name } = parseMigrationFile(file)!
    if (name.startsWith(MIGRATION_PREFIX)) present.set(name, file)
  }
  const missing: { name: string; content: string }[] = []
  for (const file of packageMigrations(source.supabaseDir)) {
    const name = MIGRATION_PREFIX + parseMigrationFile(file)!.name
    const content = readFileSync(path.join(source.supabaseDir, 'migrations', file), 'utf8')
    const existing = present.get(name)
    const relative = (f: string) => path.posix.join('supabase', 'migrations', f)
    if (existing === undefined) {
      missing.push({ name, content })
    } else if (readFileSync(path.join(projectDir, existing), 'utf8') === content) {
      files.push({ path: relative(existing), content, action: 'unchanged' })
    } else {
      conflicts.push(relative(existing))
    }
  }
  const versions = freshTimestamps(projectDir, missing.length, now)
  missing.forEach(({ name, content }, i) => {
    const file = `${versions[i]}_${name}.sql`
    files.push({ path: path.posix.join('supabase', 'migrations', file), content, action: 'create' })
  })
}

/**
 * The package's own migrations: Matchbox's schema. A collection made in this repository
 * (`*_collection_<name>.sql`) belongs to whoever made it, not to every project.
 */
function packageMigrations(supabaseDir: string): string[] {
  return migrationFiles(path.join(supabaseDir, 'migrations')).filter(
    (file) => !parseMigrationFile(file)!.name.startsWith('collection_'),
  )
}

/**
 * The function files as they go into a project: each function's folder with its imports of
 * `../_shared/` pointed at `../_matchbox/`, the shared code under `_matchbox/`, and a
 * `deno.json` per function with the import map the code needs (Supabase's per-function config).
 */
export function functionFiles(supabaseDir: string): { path: string; content: string }[] {
  const functionsDir = path.join(supabaseDir, 'functions')
  const imports = readFileSync(path.join(functionsDir, 'deno.json'), 'utf8')
  const out: { path: string; content: string }[] = []
  for (const name of MATCHBOX_FUNCTIONS) {
    for (const file of sourceFiles(path.join(functionsDir, name))) {
      const content = readFileSync(path.join(functionsDir, name, file), 'utf8')
      out.push({ path: `${name}/${file}`, content: pointAtSharedFolder(content) })
    }
    out.push({ path: `${name}/deno.json`, content: imports })
  }
  for (const file of sourceFiles(path.join(functionsDir, '_shared'))) {
    const content = readFileSync(path.join(functionsDir, '_shared', file), 'utf8')
    out.push({ path: `${SHARED_FOLDER}/${file}`, content })
  }
  return out
}

/** Rewrites the relative imports of `_shared` (the only way the functions reach it). */
export function pointAtSharedFolder(source: string): string {
  return source.replace(/(['"])\.\.\/_shared\//g, `$1../${SHARED_FOLDER}/`)
}

function sourceFiles(dir: string, prefix = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) out.push(...sourceFiles(path.join(dir, entry.name), relative))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(relative)
  }
  return out.sort()
}

/** The `[functions.<name>]` settings Matchbox's functions need. */
export function functionSettings(name: string): Record<string, string | boolean> {
  return {
    enabled: true,
    // The functions decode the caller's role from the JWT and run their SQL as that role.
    verify_jwt: true,
    import_map: `./functions/${name}/deno.json`,
    entrypoint: `./functions/${name}/index.ts`,
  }
}

/**
 * config.toml with the missing `[functions.*]` tables appended (the user's text, comments
 * included, is kept as it is); an existing table with other settings is a conflict.
 */
function planConfig(
  configPath: string,
  conflicts: string[],
): { content?: string; added: string[] } {
  const text = readFileSync(configPath, 'utf8')
  let parsed: { functions?: Record<string, Record<string, unknown>> }
  try {
    parsed = parseToml(text) as typeof parsed
  } catch (error) {
    throw new InitError(
      `supabase/config.toml is not valid TOML: ${error instanceof Error ? error.message.split('\n')[0] : error}`,
    )
  }
  const added: string[] = []
  const blocks: string[] = []
  for (const name of MATCHBOX_FUNCTIONS) {
    const want = functionSettings(name)
    const have = parsed.functions?.[name]
    if (have === undefined) {
      added.push(name)
      blocks.push(
        `[functions.${name}]\n${Object.entries(want)
          .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
          .join('\n')}\n`,
      )
      continue
    }
    const differs = Object.entries(want).some(([key, value]) => have[key] !== value)
    if (differs) conflicts.push(`supabase/config.toml [functions.${name}]`)
  }
  if (blocks.length === 0) return { added }
  const header =
    "# Matchbox's edge functions (added by `matchbox init`): each verifies the caller's JWT and\n# runs its SQL as the caller's role.\n"
  const content = `${text.replace(/\n*$/, '\n')}\n${header}${blocks.join('\n')}`
  parseToml(content) // what we append must leave the file valid
  return { content, added }
}
