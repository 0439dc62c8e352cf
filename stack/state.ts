/**
 * The running stack's description in `.matchbox/stack.json`, written by `npm start` and read
 * by `npm run status`, the demo and a second `npm start`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { STATE_DIR } from './paths.ts'

/** The state file's path (MATCHBOX_STATE_FILE moves it, e.g. for a second checkout or a test). */
export const STATE_FILE = process.env.MATCHBOX_STATE_FILE || path.join(STATE_DIR, 'stack.json')

/** What a running stack publishes; the key names are those of `supabase status -o json`. */
export interface StackStatus {
  API_URL: string
  DB_URL: string
  ANON_KEY: string
  SERVICE_ROLE_KEY: string
  PLAYGROUND_URL: string
}

interface StateFile extends StackStatus {
  pid: number
}

/** Records the stack as run by this process. */
export function writeState(status: StackStatus, file = STATE_FILE): void {
  mkdirSync(path.dirname(file), { recursive: true })
  const state: StateFile = { ...status, pid: process.pid }
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n')
}

/** Forgets the stack, if this process recorded it. */
export function clearState(file = STATE_FILE): void {
  const state = readStateFile(file)
  if (state && state.pid === process.pid) rmSync(file, { force: true })
}

/** The recorded stack and its process id, if that process is still alive. */
export function readLiveState(file = STATE_FILE): (StackStatus & { pid: number }) | undefined {
  const state = readStateFile(file)
  return state && isAlive(state.pid) ? state : undefined
}

/** The recorded stack if its process is alive and its API answers. */
export async function readRunningStatus(file = STATE_FILE): Promise<StackStatus | undefined> {
  const state = readLiveState(file)
  if (!state) return undefined
  try {
    const response = await fetch(`${state.API_URL}/health`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) return undefined
  } catch {
    return undefined
  }
  const { API_URL, DB_URL, ANON_KEY, SERVICE_ROLE_KEY, PLAYGROUND_URL } = state
  return { API_URL, DB_URL, ANON_KEY, SERVICE_ROLE_KEY, PLAYGROUND_URL }
}

function readStateFile(file: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StateFile
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: alive but not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
