/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a scratch project
 * outside the repository; a consumer type-checked with tsc (moduleResolution bundler and
 * nodenext) and run against the test stack; CommonJS; source maps; and the `matchbox` bin's
 * `init` in a project made by `supabase init` that has a migration and a function of its own,
 * pushed to a fresh database and served by Matchbox's gateway.
 */
import { execFile } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tutorialPoints } from '../../scripts/demo.ts'
import { bootstrapDatabase } from '../../stack/bootstrap.ts'
import { databaseEnv, supabaseCli } from '../../stack/cli.ts'
import { readProjectConfig } from '../../stack/config.ts'
import { type EmbeddedDb, startEmbeddedDb } from '../../stack/embedded-db.ts'
import { type FunctionsServer, startFunctionsServer } from '../../stack/functions-server.ts'
import { LOCAL_JWT_SECRET } from '../../stack/keys.ts'
import { binary, ROOT } from '../../stack/paths.ts'
import { freePort } from '../../stack/ports.ts'
import { stack } from '../support/http.ts'

const run = promisify(execFile)
const NAME = 'matchbox-vectors'

let scratch: string
let app: string
let tarball: string

/** Runs a command in `cwd`; on failure, the error carries its output. */
async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    return await run(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    })
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${command} ${args.join(' ')} failed:\n${failure.stdout}\n${failure.stderr}`)
  }
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'matchbox-package-'))
  expect(path.relative(ROOT, scratch).startsWith('..')).toBe(true)
  // `npm pack` runs `prepare`, which builds dist/: the tarball is what `npm publish` would send.
  const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', scratch], ROOT)
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[]
  tarball = path.join(scratch, packed!.filename)

  app = path.join(scratch, 'app')
  mkdirSync(app)
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  )
  await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app)
}, 600_000)

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

// The README's example, as a user would write it.
const CONSUMER = `import { createMatchboxClient, type MatchboxError, type QueryMatch } from '${NAME}'

declare const process: { env: Record<string, string | undefined> }
const url = process.env.MATCHBOX_URL!
const client = createMatchboxClient({ url, key: process.env.ANON_KEY! })
const admin = createMatchboxClient({ url, key: process.env.ANON_KEY!, accessToken: process.env.SERVICE_ROLE_KEY! })

const inserted = await admin.items.insertItems([[3, 1, 2], [1, 1, 1]])
if (inserted.error) throw inserted.error
const { data, error } = await client.items.matchItems([3, 1, 2], 1)
if (error) throw error
const nearest: { id: number; distance: number } = data.matches[0]!
const refused: MatchboxError | null = (await client.items.insertItems([[1, 2, 3]])).error
const unused: QueryMatch<{ tag: string }> | undefined = undefined
console.log(JSON.stringify({ ids: inserted.data.ids, nearest, refused: refused?.toJSON(), unused }))
`

function writeTsconfig(file: string, resolution: 'bundler' | 'nodenext', outDir: string): void {
  const module = resolution === 'bundler' ? 'esnext' : 'nodenext'
  writeFileSync(
    path.join(app, file),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        lib: ['es2023', 'dom'],
        module,
        moduleResolution: resolution,
        strict: true,
        outDir,
        types: [],
        // The package's own .d.ts files are checked too, not skipped.
        skipLibCheck: false,
      },
      files: ['consumer.ts'],
    }),
  )
}

describe('the packed package', () => {
  it('holds the build, its sources and what init copies, and nothing of the repository else', async () => {
    const { stdout } = await sh('tar', ['-tzf', tarball], scratch)
    const files = stdout.split('\n').filter(Boolean)
    for (const file of [
      'package/dist/src/index.js',
      'package/dist/src/index.d.ts',
      'package/dist/cli/main.js',
      'package/src/index.ts',
      'package/supabase/functions/_shared/contract.ts',
      'package/supabase/functions/vectors/index.ts',
      'package/supabase/functions/deno.json',
    ]) {
      expect(files).toContain(file)
    }
    expect(files.some((file) => file.startsWith('package/supabase/migrations/'))).toBe(true)
    expect(
      files.filter((file) => /package\/(test|stack|scripts|bench|playground)\//.test(file)),
    ).toEqual([])
  })

  it('type-checks a consumer with moduleResolution bundler and nodenext', async () => {
    writeFileSync(path.join(app, 'consumer.ts'), CONSUMER)
    const tsc = binary('tsc')
    writeTsconfig('tsconfig.bundler.json', 'bundler', 'out-bundler')
    writeTsconfig('tsconfig.nodenext.json', 'nodenext', 'out')
    await sh(tsc, ['-p', 'tsconfig.bundler.json', '--noEmit'], app)
    await sh(tsc, ['-p', 'tsconfig.nodenext.json'], app)

    // And a mistake is caught: `data` is the answer, `{ matches }`, not an array.
    writeFileSync(
      path.join(app, 'wrong.ts'),
      `import { createItemsClient } from '${NAME}'\nconst { data } = await createItemsClient({ url: '', key: '' }).matchItems([1])\nexport const first = data?.[0]\n`,
    )
    const wrong = await run(
      tsc,
      [
        '--noEmit',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        'es2023,dom',
        '--types',
        '',
        '--strict',
        'wrong.ts',
      ],
      { cwd: app },
    ).catch((error: { stdout: string }) => error)
    expect((wrong as { stdout: string }).stdout).toContain("Property '0' does not exist")
  })

  it('runs the consumer against the stack', async () => {
    const { stdout } = await sh('node', ['out/consumer.js'], app, {
      MATCHBOX_URL: stack.apiUrl,
      ANON_KEY: stack.anonKey,
      SERVICE_ROLE_KEY: stack.serviceRoleKey,
    })
    const answer = JSON.parse(stdout)
    expect(answer.ids).toHaveLength(2)
    expect(answer.nearest.distance).toBe(0)
    expect(answer.refused).toMatchObject({ code: 'forbidden', status: 403 })
  })

  it('loads from CommonJS through require() (Node 20.19+ loads ES modules there)', async () => {
    writeFileSync(
      path.join(app, 'consumer.cjs'),
      `const { createMatchboxClient } = require('${NAME}')\nconsole.log(typeof createMatchboxClient)\n`,
    )
    const { stdout } = await sh('node', ['consumer.cjs'], app)
    expect(stdout.trim()).toBe('function')
  })

  it('has source maps that point at files it ships', () => {
    const installed = path.join(app, 'node_modules', NAME)
    for (const map of [
      'dist/src/index.js.map',
      'dist/src/collection.js.map',
      'dist/src/index.d.ts.map',
    ]) {
      const { sources } = JSON.parse(readFileSync(path.join(installed, map), 'utf8')) as {
        sources: string[]
      }
      for (const source of sources) {
        expect(existsSync(path.resolve(installed, path.dirname(map), source))).toBe(true)
      }
    }
  })
})

describe('npx matchbox init in a Supabase project of its own', () => {
  let db: EmbeddedDb | undefined
  let functions: FunctionsServer | undefined
  let dataDir: string

  afterAll(async () => {
    await functions?.stop()
    await db?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('adds Matchbox beside the project own migration and function, and the tutorial search answers', async () => {
    const project = path.join(app, 'project')
    mkdirSync(project)
    await sh(binary('supabase'), ['init'], project)
    const own = {
      migration: 'supabase/migrations/20990101000000_notes.sql',
      shared: 'supabase/functions/_shared/greeting.ts',
      function: 'supabase/functions/hello/index.ts',
    }
    const ownContent = {
      migration:
        '-- the project own table\ncreate table public.notes (id bigint primary key, body text);\n',
      shared: "export const greeting = 'hello from the project'\n",
      function:
        "import { greeting } from '../_shared/greeting.ts'\n\nexport default { fetch: () => new Response(greeting) }\n",
    }
    for (const key of ['migration', 'shared', 'function'] as const) {
      mkdirSync(path.dirname(path.join(project, own[key])), { recursive: true })
      writeFileSync(path.join(project, own[key]), ownContent[key])
    }
    const configBefore = readFileSync(path.join(project, 'supabase/config.toml'), 'utf8')
    const npx = (args: string[]) => sh('npx', ['--no-install', ...args], project)

    const help = await npx(['matchbox', '--help'])
    expect(help.stdout).toContain('usage: matchbox <command>')

    const dry = await npx(['matchbox', 'init', '--dry-run'])
    expect(dry.stdout).toContain('dry run: nothing written')
    expect(readdirSync(path.join(project, 'supabase/migrations'))).toEqual([
      '20990101000000_notes.sql',
    ])

    const first = await npx(['matchbox-vectors', 'init'])
    expect(first.stdout).toContain('next steps:')
    expect(first.stdout).toContain('supabase functions deploy items match-items vectors')
    const migrations = readdirSync(path.join(project, 'supabase/migrations')).sort()
    expect(migrations[0]).toBe('20990101000000_notes.sql')
    // Fresh timestamps after the project's last one, in Matchbox's order.
    expect(migrations.slice(1)).toEqual([
      expect.stringMatching(/^20990101000001_matchbox_enable_pgvector\.sql$/),
      expect.stringMatching(/^20990101000002_matchbox_items\.sql$/),
      expect.stringMatching(/^20990101000003_matchbox_match_items\.sql$/),
      ...migrations
        .slice(4)
        .map(() => expect.stringMatching(/^2099010100000\d_matchbox_\w+\.sql$/)),
    ])
    const items = readFileSync(path.join(project, 'supabase/functions/items/index.ts'), 'utf8')
    expect(items).toContain("from '../_matchbox/contract.ts'")
    expect(items).not.toContain('_shared')
    const config = readFileSync(path.join(project, 'supabase/config.toml'), 'utf8')
    expect(config.startsWith(configBefore)).toBe(true)
    expect(config).toContain('[functions.vectors]')

    const again = await npx(['matchbox', 'init'])
    expect(again.stdout).toBe('Matchbox is already in .: nothing to do\n')

    // A file init would write, with other content: refused, nothing written.
    const mine = path.join(project, 'supabase/functions/vectors/routes.ts')
    const routes = readFileSync(mine, 'utf8')
    writeFileSync(mine, `${routes}// changed\n`)
    rmSync(path.join(project, 'supabase/functions/items/deno.json'))
    const refused = await run('npx', ['--no-install', 'matchbox', 'init'], { cwd: project }).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(refused).toMatchObject({ code: 1 })
    expect((refused as { stderr: string }).stderr).toContain('supabase/functions/vectors/routes.ts')
    expect(existsSync(path.join(project, 'supabase/functions/items/deno.json'))).toBe(false)
    writeFileSync(mine, routes)
    await npx(['matchbox', 'init'])
    expect(existsSync(path.join(project, 'supabase/functions/items/deno.json'))).toBe(true)

    // collection new, from the installed bin: a migration after the others.
    const made = await npx(['matchbox', 'collection', 'new', 'docs', '--dimensions', '3'])
    expect(made.stdout).toMatch(
      /wrote supabase\/migrations\/\d{14}_collection_docs\.sql: vector\(3\), cosine, hnsw/,
    )

    const declared = await npx(['matchbox', 'collection', 'field', 'docs', 'year:number'])
    expect(declared.stdout).toMatch(/^wrote supabase\/migrations\/\d{14}_\w+\.sql: year \(number\)/)

    // Each function type-checks with its own deno.json, as `supabase functions deploy` bundles it.
    for (const name of ['items', 'match-items', 'vectors']) {
      const dir = path.join(project, 'supabase/functions', name)
      await sh(
        binary('deno'),
        ['check', '--quiet', `--config=${dir}/deno.json`, `${dir}/index.ts`],
        project,
      )
    }

    // The project's own files are as they were.
    for (const key of ['migration', 'shared', 'function'] as const) {
      expect(readFileSync(path.join(project, own[key]), 'utf8')).toBe(ownContent[key])
    }

    // supabase db push to a fresh database, then the functions on Matchbox's gateway.
    dataDir = mkdtempSync(path.join(tmpdir(), 'matchbox-init-db-'))
    db = await startEmbeddedDb({ dataDir, port: await freePort() })
    await bootstrapDatabase(db.url)
    await supabaseCli(['db', 'push', `--remote=${db.url}`, '--yes', `--workdir=${project}`], {
      env: databaseEnv(db.url),
    })
    // reindex runs from the installed package, with its own database driver.
    const rebuilt = await npx(['matchbox', 'collection', 'reindex', 'docs', `--db-url=${db.url}`])
    expect(rebuilt.stdout + rebuilt.stderr).toContain('docs')
    const port = await freePort()
    const served = readProjectConfig(path.join(project, 'supabase')).functions
    expect(served.map((f) => f.name)).toEqual(['hello', 'items', 'match-items', 'vectors'])
    const { createMatchboxClient } = await import(
      path.join(app, 'node_modules', NAME, 'dist/src/index.js')
    )
    const { LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY } = await import('../../stack/keys.ts')
    functions = await startFunctionsServer({
      port,
      functions: served,
      jwtSecret: LOCAL_JWT_SECRET,
      log: () => {},
      env: {
        SUPABASE_URL: `http://127.0.0.1:${port}`,
        SUPABASE_ANON_KEY: LOCAL_ANON_KEY,
        SUPABASE_SERVICE_ROLE_KEY: LOCAL_SERVICE_ROLE_KEY,
        SUPABASE_DB_URL: db.url,
        MATCHBOX_DB_POOL_SIZE: '1',
      },
    })
    const admin = createMatchboxClient({ url: functions.url, key: LOCAL_SERVICE_ROLE_KEY })
    const reader = createMatchboxClient({ url: functions.url, key: LOCAL_ANON_KEY })
    const inserted = await admin.items.insertItems(tutorialPoints())
    expect(inserted.error).toBeNull()
    const { data, error } = await reader.items.matchItems([3, 1, 2], 4)
    expect(error).toBeNull()
    expect(data.matches.map((m: { embedding: number[] }) => m.embedding)).toEqual([
      [3, 1, 2],
      [2, 1, 1],
      [3, 1, 3],
      [2, 1, 2],
    ])
    const docs = admin.collection('docs')
    expect((await docs.upsert([{ id: 'a', values: [1, 0, 0] }])).data).toEqual({ upserted: 1 })
    expect((await reader.collection('docs').query({ vector: [1, 0, 0], topK: 1 })).data).toEqual({
      matches: [{ id: 'a', distance: 0, metadata: {} }],
    })
    // The project's own function still answers with the project's own _shared code.
    const hello = await fetch(`${functions.url}/functions/v1/hello`, {
      headers: { authorization: `Bearer ${LOCAL_ANON_KEY}` },
    })
    expect(await hello.text()).toBe('hello from the project')
  })
})
