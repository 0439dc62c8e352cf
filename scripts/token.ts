/**
 * `npm run -s token -- --user <uuid> [--email e] [--tenant t] [--expires-in 1h]`: prints an
 * `authenticated` access token for that user, signed with the running stack's JWT secret, as
 * Supabase Auth would issue at sign-in (the local stack has no Auth server). On a hosted
 * project the token comes from `supabase.auth` sign-in instead.
 *
 * @example
 * TOKEN=$(npm run -s token -- --user 6f1c2f3e-9a0b-4c5d-8e7f-001122334455 --tenant acme)
 * curl -H "apikey: $ANON_KEY" -H "Authorization: Bearer $TOKEN" …
 */
import { parseOrExit } from '../cli/args.ts'
import { resolveKeys, signUserToken, stackJwtSecret } from '../stack/keys.ts'
import { readRunningStatus } from '../stack/state.ts'

const USAGE_LINE =
  'usage: npm run -s token -- --user <uuid> [--email <email>] [--tenant <tenant id>] [--expires-in 1h]'

const USAGE = `${USAGE_LINE}

Prints an \`authenticated\` access token for that user, signed with the running stack's JWT
secret (or the secret it would start with), as Supabase Auth issues at sign-in.

  --user <uuid>         the user's id, the token's \`sub\` (required)
  --email <email>       the user's email claim
  --tenant <tenant id>  app_metadata.tenant_id, for collections with --access tenant
  --expires-in <time>   lifetime such as 90s, 15m, 1h (default) or 7d
  --help                this text`

const OPTIONS = {
  user: { type: 'string' },
  email: { type: 'string' },
  tenant: { type: 'string' },
  'expires-in': { type: 'string', default: '1h' },
} as const

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * Seconds in a lifetime such as `90s`, `15m`, `1h` or `7d`.
 *
 * @example
 * lifetimeSeconds('1h') // 3600
 */
export function lifetimeSeconds(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim())
  const seconds = match ? Number(match[1]) * UNITS[match[2]!]! : NaN
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new Error(
      `--expires-in ${JSON.stringify(text)}: expected a lifetime such as 90s, 15m, 1h or 7d`,
    )
  }
  return seconds
}

async function main(): Promise<void> {
  const { values } = parseOrExit('npm run token', process.argv.slice(2), {
    usage: USAGE,
    options: OPTIONS,
  })
  if (!values.user) {
    throw new Error(`expected --user <uuid> (e.g. ${crypto.randomUUID()})\n${USAGE_LINE}`)
  }
  if (values.tenant === '') throw new Error('--tenant: expected a non-empty tenant id')
  const status = await readRunningStatus()
  // Without a running stack, the secret it would start with; with one, the secret it checks.
  const secret = status ? await stackJwtSecret(status.ANON_KEY) : (await resolveKeys()).jwtSecret
  const token = await signUserToken(
    {
      user: values.user,
      email: values.email,
      tenant: values.tenant,
      expiresInSeconds: lifetimeSeconds(values['expires-in']!),
      issuer: `${status?.API_URL ?? 'http://127.0.0.1:54321'}/auth/v1`,
    },
    secret,
  )
  console.log(token)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  })
}
