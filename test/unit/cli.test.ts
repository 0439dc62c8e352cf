/** The matchbox command's pure parts: argument manners, migration timestamps, init's plan. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from '../../cli/args.ts'
import { applyInit, InitError, planInit, pointAtSharedFolder } from '../../cli/init.ts'
import { freshTimestamps } from '../../cli/migration-files.ts'
import { SUPABASE_DIR } from '../../stack/paths.ts'

const source = { supabaseDir: SUPABASE_DIR }
const NOW = new Date('2026-12-01T11:00:00Z')
let project: string

beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'matchbox-cli-'))
  mkdirSync(path.join(project, 'supabase', 'migrations'), { recursive: true })
  writeFileSync(path.join(project, 'supabase', 'config.toml'), 'project_id = "app"\n')
})
afterEach(() => rmSync(project, { recursive: true, force: true }))

describe('parseCommand', () => {
  const spec = {
    usage: 'usage: x <name> [--dry-run] [--n <n>]',
    options: { 'dry-run': { type: 'boolean' }, n: { type: 'string' } },
    positionals: { min: 1, max: 1 },
  } as const

  it('answers help before looking at anything else', () => {
    expect(parseCommand(['--bogus', '--help'], spec).help).toBe(true)
    expect(parseCommand(['-h'], spec).help).toBe(true)
  })

  it('names the valid options for an unknown one', () => {
    expect(() => parseCommand(['a', '--dryrun'], spec)).toThrow(
      new UsageError('unknown option --dryrun: valid options are --dry-run, --n, --help'),
    )
  })

  it('says which option lacks a value, or takes none', () => {
    expect(() => parseCommand(['a', '--n'], spec)).toThrow('--n needs a value')
    expect(() => parseCommand(['a', '--dry-run=yes'], spec)).toThrow('--dry-run takes no value')
  })

  it('counts positionals', () => {
    expect(() => parseCommand([], spec)).toThrow('expected 1 argument, got 0')
    expect(() => parseCommand(['a', 'b'], spec)).toThrow('got 2: unexpected "b"')
    expect(parseCommand(['a', '--n', '3'], spec)).toMatchObject({
      positionals: ['a'],
      values: { n: '3' },
      help: false,
    })
  })
})

describe('freshTimestamps', () => {
  const dir = () => path.join(project, 'supabase', 'migrations')

  it('starts now when every migration is older', () => {
    writeFileSync(path.join(dir(), '20200101000000_old.sql'), '')
    expect(freshTimestamps(dir(), 2, NOW)).toEqual(['20261201110000', '20261201110001'])
  })

  it("starts a second after the project's last migration when it is in the future", () => {
    writeFileSync(path.join(dir(), '20991231235959_late.sql'), '')
    writeFileSync(path.join(dir(), 'README.md'), '')
    expect(freshTimestamps(dir(), 2, NOW)).toEqual(['21000101000000', '21000101000001'])
  })
})

describe('init', () => {
  it('refuses a folder that is not a Supabase project', () => {
    rmSync(path.join(project, 'supabase', 'config.toml'))
    expect(() => planInit(project, source, NOW)).toThrow(InitError)
  })

  it('points the functions at _matchbox, never at the project _shared', () => {
    expect(pointAtSharedFolder("import { x } from '../_shared/http.ts'\n")).toBe(
      "import { x } from '../_matchbox/http.ts'\n",
    )
    const plan = planInit(project, source, NOW)
    const written = plan.files.map((file) => file.path)
    expect(written.some((file) => file.startsWith('supabase/functions/_shared/'))).toBe(false)
    for (const file of plan.files.filter((f) => f.path.startsWith('supabase/functions/'))) {
      expect(file.content).not.toMatch(/\.\.\/_shared\//)
    }
  })

  it('is idempotent, and refuses without writing when a file it writes has other content', () => {
    const plan = planInit(project, source, NOW)
    expect(plan.conflicts).toEqual([])
    applyInit(project, plan)
    const later = new Date('2026-12-02T00:00:00Z')
    expect(planInit(project, source, later).files.every((f) => f.action === 'unchanged')).toBe(true)

    const config = path.join(project, 'supabase', 'config.toml')
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('verify_jwt = true', 'verify_jwt = false'),
    )
    const migration = plan.files.find((f) => f.path.endsWith('_matchbox_items.sql'))!.path
    writeFileSync(path.join(project, migration), '-- edited\n')
    const refused = planInit(project, source, later)
    expect(refused.conflicts).toEqual([migration, 'supabase/config.toml [functions.items]'])
    expect(() => applyInit(project, refused)).toThrow(InitError)
  })
})
