/**
 * A PostgreSQL server of the test's own, in a temporary folder on a free port, that the
 * test may crash and restart at will without disturbing any other server. Uses the native
 * PostgreSQL and pgvector that scripts/install-postgres.sh installs; must run as root (the
 * server itself runs as the `postgres` user, as initdb requires).
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { nativeServerUrl } from '../../stack/native-postgres.ts'
import { freePort } from '../../stack/ports.ts'

const run = promisify(execFile)

/** A private server: its URL and the controls a fault test needs. */
export interface PrivatePostgres {
  url: string
  /** `pg_ctl stop -m immediate`: the server dies as in a crash, without a checkpoint. */
  crash(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

/** The newest installed PostgreSQL's bin folder. */
function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((name) => existsSync(`/usr/lib/postgresql/${name}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a))
  if (!versions[0]) throw new Error('no native PostgreSQL: run scripts/install-postgres.sh first')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

/** Creates and starts a private server (installing PostgreSQL + pgvector first if needed). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  await nativeServerUrl() // installs PostgreSQL and pgvector if they are missing
  const bin = binDir()
  const dir = mkdtempSync(path.join(tmpdir(), 'matchbox-pg-'))
  const { stdout: uid } = await run('id', ['-u', 'postgres'])
  const { stdout: gid } = await run('id', ['-g', 'postgres'])
  chownSync(dir, Number(uid), Number(gid))
  const data = path.join(dir, 'data')
  const port = await freePort()
  const asPostgres = (command: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args], { timeout: 60_000 })
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`
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
    crash: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])
    },
    start,
    destroy: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
