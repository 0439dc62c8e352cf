/**
 * The API keys of the local stack: Supabase's standard local development keys, signed with
 * its standard local JWT secret, unless the environment overrides them.
 */
import { SignJWT } from 'jose'

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
