/**
 * Migration file names as the Supabase CLI writes them, `<YYYYMMDDHHMMSS>_<name>.sql` (UTC),
 * and fresh timestamps that sort after every migration a project already has: the CLI
 * applies migrations in name order, and one older than the last applied is refused by
 * `supabase db push`.
 */
import { existsSync, readdirSync } from 'node:fs'

const MIGRATION_FILE = /^(\d{14})_(.+)\.sql$/

/** A migration file's version (its timestamp) and name, or undefined for another file. */
export function parseMigrationFile(file: string): { version: string; name: string } | undefined {
  const match = MIGRATION_FILE.exec(file)
  return match ? { version: match[1]!, name: match[2]! } : undefined
}

/** The migration files of `dir`, in the order the CLI applies them (none if it is missing). */
export function migrationFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((file) => parseMigrationFile(file) !== undefined)
    .sort()
}

/**
 * `count` consecutive timestamps, one second apart, starting at `now` or one second after the
 * last migration in `dir`, whichever is later.
 *
 * @example
 * freshTimestamps('supabase/migrations', 2, new Date('2026-12-01T11:00:00Z'))
 * // ['20261201110000', '20261201110001'] (if every migration there is older)
 */
export function freshTimestamps(dir: string, count: number, now = new Date()): string[] {
  const last = migrationFiles(dir).at(-1)
  const lastTime = last ? timeOf(parseMigrationFile(last)!.version) : -Infinity
  const start = Math.max(Math.floor(now.getTime() / 1000) * 1000, lastTime + 1000)
  return Array.from({ length: count }, (_, i) => formatTimestamp(new Date(start + i * 1000)))
}

function timeOf(version: string): number {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(version.slice(at, i === 0 ? 4 : at + 2)),
  )
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
}

function formatTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/\D/g, '')
}
