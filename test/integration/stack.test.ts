/**
 * `npm start` as a user runs it: the demo twice, a second start refused, Ctrl-C stopping
 * everything, and the data still there after a restart.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../stack/paths.ts'
import { freePort, isPortTaken } from '../../stack/ports.ts'
import { StackError, startStack } from '../../stack/stack.ts'

const run = promisify(execFile)
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx')
const work = mkdtempSync(path.join(tmpdir(), 'matchbox-start-'))
const apiPort = await freePort()
const dbPort = await freePort()
const playgroundPort = await freePort()
const env = {
  ...process.env,
  SUPABASE_DB_URL: '',
  MATCHBOX_API_PORT: String(apiPort),
  MATCHBOX_DB_PORT: String(dbPort),
  MATCHBOX_PLAYGROUND_PORT: String(playgroundPort),
  MATCHBOX_DATA_DIR: path.join(work, 'db'),
  MATCHBOX_STATE_FILE: path.join(work, 'stack.json'),
}

/** Starts `npm start`'s script and resolves once it says it is running. */
function start(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(TSX, ['scripts/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Matchbox is running.')) resolve({ child, output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)))
  })
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill('SIGINT')
  })
}

const script = (name: string, ...args: string[]) =>
  run(TSX, [`scripts/${name}.ts`, ...args], { cwd: ROOT, env })

afterAll(() => rmSync(work, { recursive: true, force: true }))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether a process is running: it exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (name) state …"; the name may hold spaces, the state follows it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe('npm start', () => {
  it('serves the tutorial, refuses a second start, stops on Ctrl-C and keeps the data', async () => {
    const first = await start()
    try {
      const status = JSON.parse((await script('status', '--json')).stdout)
      expect(Object.keys(status)).toEqual([
        'API_URL',
        'DB_URL',
        'ANON_KEY',
        'SERVICE_ROLE_KEY',
        'PLAYGROUND_URL',
        'JWT_SECRET',
      ])
      expect(status.API_URL).toBe(`http://127.0.0.1:${apiPort}`)
      expect(status.PLAYGROUND_URL).toBe(`http://127.0.0.1:${playgroundPort}`)

      const demo = (await script('demo')).stdout
      expect(demo).toContain('inserted 28 items')
      expect(demo).toMatch(/\[3,1,2\]\s+0\n/)
      expect(demo).toContain('0.01801949393803426')
      expect(demo).toContain('0.018977056824054706')
      expect(demo).toContain('0.02004211298777725')
      expect(demo).toContain('Index Scan using items_embedding_hnsw_idx on items')
      expect(demo).toContain('400 dimension_mismatch: expected 3 dimensions, not 4')

      const again = (await script('demo')).stdout
      expect(again).toContain('items already holds the tutorial points: nothing inserted')
      expect(again.slice(again.indexOf('matchItems'))).toBe(demo.slice(demo.indexOf('matchItems')))

      const second = await script('start').catch((error: { code: number; stderr: string }) => error)
      expect(second).toMatchObject({ code: 1 })
      expect((second as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1)
      expect((second as { stderr: string }).stderr).toContain('Matchbox is already running')
    } finally {
      expect(await stop(first.child)).toBe(0)
    }
    expect(first.output()).toContain('stopped')
    expect(await isPortTaken(apiPort)).toBe(false)
    expect(await isPortTaken(dbPort)).toBe(false)
    expect(await isPortTaken(playgroundPort)).toBe(false)
    await expect(script('status', '--json')).rejects.toMatchObject({ code: 1 })

    const restarted = await start()
    try {
      expect((await script('demo')).stdout).toContain(
        'items already holds the tutorial points: nothing inserted',
      )
    } finally {
      await stop(restarted.child)
    }
  })

  it('takes the functions server with it when it is killed', async () => {
    // SIGKILL leaves no chance to stop children: the functions server must notice by itself
    // (its stdin closes) rather than keep the port and its database connections.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/stack-child.ts', path.join(work, 'killed')],
      {
        cwd: ROOT,
        env: { ...process.env, SUPABASE_DB_URL: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const started = await new Promise<{ functionsPid: number; apiPort: number }>(
      (resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)))
        child.once('exit', (code) => reject(new Error(`the stack's process exited (${code})`)))
      },
    )
    try {
      expect(isAlive(started.functionsPid)).toBe(true)
      child.kill('SIGKILL')
      for (let i = 0; i < 100 && isAlive(started.functionsPid); i++) await sleep(100)
      expect(isAlive(started.functionsPid)).toBe(false)
      expect(await isPortTaken(started.apiPort)).toBe(false)
    } finally {
      child.kill('SIGKILL')
      if (isAlive(started.functionsPid)) process.kill(started.functionsPid, 'SIGKILL')
    }
  })

  it('explains a busy port in one line', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => blocker.once('listening', resolve))
    const busy = (blocker.address() as net.AddressInfo).port
    try {
      const error = await startStack({
        apiPort: busy,
        dbPort: await freePort(),
        dataDir: path.join(work, 'x'),
      }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StackError)
      expect((error as Error).message).toBe(
        `port ${busy} (API) is already in use: stop whatever holds it (another \`npm start\` or \`supabase start\`?) or change [api] port in supabase/config.toml`,
      )
    } finally {
      blocker.close()
    }
  })
})
