/** Raw HTTP helpers for tests that must send what the SDK never would. */
import { inject } from 'vitest'
import './stack-info.ts'

/** The stack of this test run. */
export const stack = inject('stack')

/** The URL of a function on the test stack. */
export function functionUrl(name: string): string {
  return `${stack.apiUrl}/functions/v1/${name}`
}

/** A JSON POST with a bearer key; `body` strings are sent as they are. */
export async function post(
  name: string,
  body: unknown,
  options: { key?: string | null; headers?: Record<string, string> } = {},
  // deno-lint-ignore no-explicit-any -- answers are checked field by field by the tests
): Promise<{ status: number; body: any; headers: Headers }> {
  const key = options.key === undefined ? stack.anonKey : options.key
  const response = await fetch(functionUrl(name), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...options.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    headers: response.headers,
  }
}
