/**
 * The API keys of the local stack: Supabase's standard local development keys, signed with
 * its standard local JWT secret, unless the environment overrides them.
 */
import { jwtVerify, SignJWT } from 'jose'

/** The JWT secret `supabase start` uses; public, for local development only. */
export const LOCAL_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long'

/** The anon key `supabase start` prints (role `anon`, issuer `supabase-demo`). */
export const LOCAL_ANON_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0'

/** The service_role key `supabase start` prints. */
export const LOCAL_SERVICE_ROLE_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU'

/** The secret and the two keys the stack checks and hands out. */
export interface StackKeys {
  jwtSecret: string
  anonKey: string
  serviceRoleKey: string
}

/**
 * The keys to use: `SUPABASE_AUTH_JWT_SECRET`, `SUPABASE_ANON_KEY` and
 * `SUPABASE_SERVICE_ROLE_KEY` from `env` where set; keys not given are signed with the secret.
 */
export async function resolveKeys(env: NodeJS.ProcessEnv = process.env): Promise<StackKeys> {
  const jwtSecret = env.SUPABASE_AUTH_JWT_SECRET || LOCAL_JWT_SECRET
  if (jwtSecret === LOCAL_JWT_SECRET) {
    return {
      jwtSecret,
      anonKey: env.SUPABASE_ANON_KEY || LOCAL_ANON_KEY,
      serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY || LOCAL_SERVICE_ROLE_KEY,
    }
  }
  return {
    jwtSecret,
    anonKey: env.SUPABASE_ANON_KEY || (await signRoleKey('anon', jwtSecret)),
    serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY || (await signRoleKey('service_role', jwtSecret)),
  }
}

/** A long-lived API key for `role`, like the ones Supabase issues. */
export function signRoleKey(role: string, secret: string, expiresIn = '10y'): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('supabase-demo')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret))
}

/** What a local user's access token says about the user. */
export interface UserTokenOptions {
  /** The user's id (`sub`, what `auth.uid()` returns): a uuid. */
  user: string
  email?: string
  /** `app_metadata.tenant_id`, which tenant collections' policies read. */
  tenant?: string
  /** Lifetime in seconds (Supabase Auth's default is 3600). */
  expiresInSeconds?: number
  /** `iss`: Supabase Auth's URL, `<API_URL>/auth/v1`. */
  issuer?: string
  /** Now, in seconds since the epoch (for tests). */
  now?: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * An `authenticated` access token like the one Supabase Auth issues at sign-in, signed with
 * `secret`: the same claims (`sub`, `role`, `aud`, `email`, `app_metadata`, `exp`, `iat`,
 * `iss`, …), so that policies see the user as they would on a hosted project.
 *
 * @example
 * await signUserToken({ user: '0b6c…', tenant: 'acme' }, LOCAL_JWT_SECRET)
 */
export function signUserToken(options: UserTokenOptions, secret: string): Promise<string> {
  if (!UUID.test(options.user)) {
    throw new Error(`user ${JSON.stringify(options.user)} is not a uuid: auth.uid() is one`)
  }
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const lifetime = options.expiresInSeconds ?? 3600
  const appMetadata: Record<string, unknown> = { provider: 'email', providers: ['email'] }
  if (options.tenant !== undefined) appMetadata.tenant_id = options.tenant
  return new SignJWT({
    email: options.email ?? '',
    phone: '',
    app_metadata: appMetadata,
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.user.toLowerCase())
    .setAudience('authenticated')
    .setIssuer(options.issuer ?? 'http://127.0.0.1:54321/auth/v1')
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(new TextEncoder().encode(secret))
}

/**
 * The JWT secret that signed `anonKey`: the one this environment resolves to
 * (`SUPABASE_AUTH_JWT_SECRET`, else the local default), checked against the running stack's
 * key so that a token signed with it is one the stack accepts.
 *
 * @throws Error naming the fix when the stack was started with another secret.
 */
export async function stackJwtSecret(
  anonKey: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const { jwtSecret } = await resolveKeys(env)
  try {
    await jwtVerify(anonKey, new TextEncoder().encode(jwtSecret), { algorithms: ['HS256'] })
  } catch {
    throw new Error(
      'the running stack was started with another JWT secret: set SUPABASE_AUTH_JWT_SECRET as it was for npm start',
    )
  }
  return jwtSecret
}
