/** What the global setup tells the tests about the stack it started. */
export interface StackInfo {
  apiUrl: string
  dbUrl: string
  anonKey: string
  serviceRoleKey: string
  playgroundUrl: string
  embedded: boolean
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo
  }
}
