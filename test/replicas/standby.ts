/**
 * A streaming standby of a private PostgreSQL (test/support/private-postgres.ts), made with
 * `pg_basebackup -R` in a temporary folder on a free port: a real read replica that a test
 * may kill and start again. Runs as the `postgres` user, so the tests must run as root.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../stack/ports.ts'

const run = promisify(execFile)

/** A running standby and the controls a fault test needs. */
export interface Standby {
  url: string
  /** `pg_ctl stop -m immediate`: it dies as in a crash. */
  kill(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

/** The newest installed PostgreSQL's bin folder. */
function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((name) => existsSync(`/usr/lib/postgresql/${name}/bin/pg_basebackup`))
    .sort((a, b) => Number(b) - Number(a))
  if (!versions[0]) throw new Error('no native PostgreSQL: run scripts/install-postgres.sh first')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

/** Clones `primaryUrl` (trust on loopback, as private-postgres.ts sets up) and starts it. */
export async function startStandby(primaryUrl: string): Promise<Standby> {
  const bin = binDir()
  const dir = mkdtempSync(path.join(tmpdir(), 'matchbox-standby-'))
  const { stdout: uid } = await run('id', ['-u', 'postgres'])
  const { stdout: gid } = await run('id', ['-g', 'postgres'])
  chownSync(dir, Number(uid), Number(gid))
  const data = path.join(dir, 'data')
  const port = await freePort()
  const asPostgres = (command: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args], { timeout: 120_000 })
  await asPostgres('pg_basebackup', ['-R', '-X', 'stream', '-D', data, '-d', primaryUrl])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c hot_standby=on`
  const start = async () => {
    await asPostgres('pg_ctl', [
      '-D',
      data,
      '-o',
      options,
      '-l',
      path.join(dir, 'log'),
      '-w',
      'start',
    ])
  }
  await start()
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    kill: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])
    },
    start,
    destroy: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
