/** Runs the real Supabase CLI against a database URL, as on a hosted project. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { binary, ROOT } from './paths.ts'

const run = promisify(execFile)

/** Output of one CLI run. */
export interface CliOutput {
  stdout: string
  stderr: string
}

/**
 * Runs `supabase <args…>` in the repository; rejects with the CLI's own output when it fails.
 *
 * @example
 * await supabaseCli(['db', 'push', `--remote=${dbUrl}`, '--yes'])
 */
export async function supabaseCli(
  args: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string>; input?: string } = {},
): Promise<CliOutput> {
  try {
    const pending = run(binary('supabase'), [...args], {
      cwd: ROOT,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
      // No telemetry prompts or colour codes in captured output.
      env: { ...process.env, ...options.env, SUPABASE_YES: '1', NO_COLOR: '1', DO_NOT_TRACK: '1' },
    })
    // Some commands read stdin when it is not a terminal (`migration new` takes the SQL
    // there): give them the input, or an immediate end, never an open pipe.
    pending.child.stdin?.end(options.input ?? '')
    return await pending
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string }
    const output = [failure.stderr, failure.stdout].filter(Boolean).join('\n').trim()
    throw new Error(
      `supabase ${args[0] ?? ''} ${args[1] ?? ''} failed:\n${output || failure.message}`,
    )
  }
}

/** Applies `supabase/migrations` with `supabase db push`, recording them as the CLI does. */
export function pushMigrations(dbUrl: string): Promise<CliOutput> {
  return supabaseCli(['db', 'push', `--remote=${dbUrl}`, '--yes'], { env: databaseEnv(dbUrl) })
}

/**
 * Environment for a CLI run against `dbUrl`: a loopback database speaks no TLS, so the CLI
 * is told not to try (it would print a warning into its output); any other keeps its TLS.
 */
export function databaseEnv(dbUrl: string): Record<string, string> {
  const host = new URL(dbUrl).hostname
  return ['127.0.0.1', 'localhost', '[::1]'].includes(host) ? { PGSSLMODE: 'disable' } : {}
}
