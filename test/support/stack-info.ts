/** What the global setup tells the tests about the stack it started. */
export interface StackInfo {
  apiUrl: string
  dbUrl: string
  anonKey: string
  serviceRoleKey: string
  playgroundUrl: string
  embedded: boolean
  /** The functions server's process (Deno), for CPU and memory readings. */
  functionsPid: number | undefined
  /** The process that runs the embedded database (the test runner's own), when embedded. */
  databasePid: number | undefined
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo
  }
}
