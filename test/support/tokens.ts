/** JWTs for auth tests: good ones, and each way a bad one can be bad. */
import { SignJWT, UnsecuredJWT } from 'jose'
import { LOCAL_JWT_SECRET, signUserToken } from '../../stack/keys.ts'

/** An HS256 token with `claims`, signed with `secret` (the local one by default). */
export function signToken(
  claims: Record<string, unknown>,
  options: { secret?: string; expiresAt?: number } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt()
  jwt.setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 3600)
  return jwt.sign(new TextEncoder().encode(options.secret ?? LOCAL_JWT_SECRET))
}

/** The tokens the gateway must turn away, by name. */
export async function badTokens(): Promise<Record<string, string>> {
  return {
    malformed: 'not-a-jwt',
    'wrong signature': await signToken({ role: 'service_role' }, { secret: 'x'.repeat(40) }),
    expired: await signToken({ role: 'anon' }, { expiresAt: Math.floor(Date.now() / 1000) - 60 }),
    'none algorithm': new UnsecuredJWT({ role: 'service_role' }).setIssuedAt().encode(),
  }
}

/**
 * A user's access token as `npm run token` makes it (Supabase Auth's claims), signed with the
 * local secret the test stack uses.
 */
export function userToken(
  user: string,
  options: { tenant?: string; email?: string } = {},
): Promise<string> {
  return signUserToken({ user, ...options }, LOCAL_JWT_SECRET)
}
