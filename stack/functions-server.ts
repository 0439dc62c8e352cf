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

/** A running functions server, restarted by this process whenever it dies. */
export interface FunctionsServer {
  url: string
  /** The Deno process serving now. */
  readonly process: ChildProcess
  /** How many times it has been restarted after dying. */
  readonly restarts: number
  stop(): Promise<void>
}

const GATEWAY = path.join(path.dirname(new URL(import.meta.url).pathname), 'gateway', 'main.ts')

/**
 * Starts Deno and resolves once it listens; rejects with its output if it exits first. If it
 * dies later (a function took the process down), it is started again: requests meanwhile
 * fail to connect, and the next ones succeed.
 */
export async function startFunctionsServer(
  options: FunctionsServerOptions,
): Promise<FunctionsServer> {
  const log = options.log ?? ((line) => console.log(line))
  let child = await spawnGateway(options, log)
  let stopping = false
  let restarts = 0
  const supervise = (watched: ChildProcess) => {
    watched.once('exit', (code, signal) => {
      if (stopping) return
      log(`the functions server exited (${signal ?? `code ${code}`}): restarting it`)
      const restart = async () => {
        try {
          child = await spawnGateway(options, log)
          restarts++
          supervise(child)
        } catch (error) {
          log(
            `restarting the functions server failed: ${error instanceof Error ? error.message : error}`,
          )
          if (!stopping) setTimeout(() => void restart(), 1000)
        }
      }
      void restart()
    })
  }
  supervise(child)
  return {
    url: `http://127.0.0.1:${options.port}`,
    get process() {
      return child
    },
    get restarts() {
      return restarts
    },
    stop() {
      stopping = true
      return stopChild(child)
    },
  }
}

function spawnGateway(
  options: FunctionsServerOptions,
  log: (line: string) => void,
): Promise<ChildProcess> {
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
      // stdin stays open and silent: the gateway exits when it closes, with this process.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...options.env,
        MATCHBOX_EXIT_WITH_PARENT: '1',
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

  return new Promise<ChildProcess>((resolve, reject) => {
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
        resolve(child)
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
