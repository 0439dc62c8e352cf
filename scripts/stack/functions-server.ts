/**
 * Runs the edge functions on real Deno: one process serving every function behind the
 * gateway (gateway/main.ts), with the environment Supabase gives hosted functions.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { FunctionConfig } from './config.ts'
import { binary, SUPABASE_DIR } from './paths.ts'

/** What the functions server needs to start. */
export interface FunctionsServerOptions {
  port: number
  functions: readonly FunctionConfig[]
  jwtSecret: string
  /** SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL, … */
  env: Record<string, string>
  /** Receives each line the functions log. */
  log?: (line: string) => void
  readyTimeoutMs?: number
}

/** A running functions server. */
export interface FunctionsServer {
  url: string
  process: ChildProcess
  stop(): Promise<void>
}

const GATEWAY = path.join(path.dirname(new URL(import.meta.url).pathname), 'gateway', 'main.ts')

/** Starts Deno and resolves once it listens; rejects with its output if it exits first. */
export function startFunctionsServer(options: FunctionsServerOptions): Promise<FunctionsServer> {
  const log = options.log ?? ((line) => console.log(line))
  const child = spawn(
    binary('deno'),
    [
      'run',
      '--quiet',
      `--config=${path.join(SUPABASE_DIR, 'functions', 'deno.json')}`,
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--allow-sys',
      GATEWAY,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...options.env,
        MATCHBOX_FUNCTIONS: JSON.stringify(options.functions),
        MATCHBOX_JWT_SECRET: options.jwtSecret,
        MATCHBOX_API_PORT: String(options.port),
        NO_COLOR: '1',
      },
    },
  )
  const recent: string[] = []
  const remember = (line: string) => {
    recent.push(line)
    if (recent.length > 50) recent.shift()
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the functions server did not start in time:\n${recent.join('\n')}`))
    }, options.readyTimeoutMs ?? 120_000)

    createInterface({ input: child.stderr! }).on('line', (line) => {
      remember(line)
      log(line)
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{"ready":true')) {
        clearTimeout(timer)
        resolve({
          url: `http://127.0.0.1:${options.port}`,
          process: child,
          stop: () => stopChild(child),
        })
        return
      }
      remember(line)
      log(line)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new Error(
          `the functions server exited (${signal ?? `code ${code}`}) before it was ready:\n${recent.join('\n')}`,
        ),
      )
    })
  })
}

/** Asks a child to stop, then makes it. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
