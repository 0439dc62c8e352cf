/**
 * Every developer command answers `--help` with its usage and refuses an unknown option by
 * naming the valid ones, without touching a stack or a database.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../stack/paths.ts'

const TSX = path.join(ROOT, 'node_modules/.bin/tsx')
// A state file that cannot exist, so that a command that ignored --help finds no stack.
// The timeouts are for a loaded machine: each script takes about a second of CPU to start.
const ENV = { ...process.env, MATCHBOX_STATE_FILE: '/nonexistent/stack.json' }

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

function runScript(script: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [script.includes('/') ? `${script}.ts` : `scripts/${script}.ts`, ...args],
      { cwd: ROOT, env: ENV, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

// script → the npm command its usage line names
const COMMANDS: Record<string, string> = {
  status: 'npm run -s status',
  'gen-types': 'npm run types',
  token: 'npm run -s token',
  start: 'npm start',
  demo: 'npm run demo',
  'db-reset': 'npm run db:reset',
  'db-push': 'npm run db:push',
  'test-native': 'npm run test:native',
  'bench/filtered-targets': 'npm run bench:filtered',
  'bench/filtered-search': 'npm run bench:filters',
  'bench/hybrid': 'npm run bench:hybrid',
}

describe('the scripts', () => {
  it('print their usage for --help and exit 0', { timeout: 180_000 }, async () => {
    const scripts = Object.keys(COMMANDS)
    const outcomes = await Promise.all(scripts.map((script) => runScript(script, ['--help'])))
    for (const [i, script] of scripts.entries()) {
      const { code, stdout, stderr } = outcomes[i]!
      expect({ script, code, stderr }).toEqual({ script, code: 0, stderr: '' })
      expect(stdout.split('\n')[0]).toMatch(new RegExp(`^usage: ${COMMANDS[script]}( |$)`))
      expect(stdout).toContain('--help    ')
    }
  })

  it('name the valid options for an unknown one and exit 1', { timeout: 150_000 }, async () => {
    const [status, token, start, filtered, hybrid] = await Promise.all([
      runScript('status', ['--jsn']),
      runScript('token', ['--user', '6f1c2f3e-9a0b-4c5d-8e7f-001122334455', '--tenants', 'a']),
      runScript('start', ['--port', '1']),
      runScript('bench/filtered-targets', ['--row', '5']),
      runScript('bench/hybrid', ['--rows', '1e3x']),
    ])
    expect(status).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'npm run status: unknown option --jsn: valid options are --json, --help\n',
    })
    expect(token).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'npm run token: unknown option --tenants: valid options are --user, --email, --tenant, --expires-in, --help\n',
    })
    expect(start).toMatchObject({
      code: 1,
      stderr: 'npm start: unknown option --port: valid options are --help\n',
    })
    expect(filtered).toMatchObject({
      code: 1,
      stderr:
        'npm run bench:filtered: unknown option --row: valid options are --native, --no-vacuum, --rows, --dims, --queries, --help\n',
    })
    expect(hybrid).toMatchObject({
      code: 1,
      stderr: 'npm run bench:hybrid: --rows must be a whole number above 0, not 1e3x\n',
    })
  })
})
