/**
 * The command line of the side benchmarks (`bench:filters`, `bench:filtered`, `bench:hybrid`):
 * `--help` prints the usage, made from the options themselves; an unknown option or a count
 * that is not a whole number above 0 is refused in one line naming it, before any stack starts.
 */
import type { ParseArgsConfig } from 'node:util'
import { parseOrExit } from '../cli/args.ts'

/** A benchmark's command line: what it is, its counts and its switches beside `--native`. */
export interface BenchCommand<N extends string, F extends string> {
  /** As typed: `npm run bench:filtered`. */
  command: string
  /** What it measures, for `--help`. */
  about: string
  /** Each count's default and what it counts. */
  counts: Readonly<Record<N, readonly [number, string]>>
  /** Each switch's meaning. */
  flags?: Readonly<Record<F, string>>
}

/** The parsed counts and switches (`native` always among them). */
export function benchArgs<N extends string, F extends string = never>(
  spec: BenchCommand<N, F>,
): { counts: Record<N, number>; flags: Record<F | 'native', boolean> } {
  const countNames = Object.keys(spec.counts) as N[]
  const flags: Record<string, string> = {
    native: 'native PostgreSQL (scripts/install-postgres.sh, as root); default PGlite',
    ...spec.flags,
  }
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const name of Object.keys(flags)) options[name] = { type: 'boolean', default: false }
  for (const name of countNames) options[name] = { type: 'string' }
  const lines = [
    ...Object.entries(flags).map(([name, help]) => [`--${name}`, help]),
    ...countNames.map((name) => {
      const [fallback, help] = spec.counts[name]
      return [`--${name} N`, `${help} (default ${fallback})`]
    }),
    ['--help', 'this text'],
  ]
  const width = Math.max(...lines.map(([option]) => option!.length)) + 4
  const synopsis = [...Object.keys(flags).map((name) => `--${name}`)]
    .concat(countNames.map((name) => `--${name} N`))
    .join(' ')
  const usage = `usage: ${spec.command} [-- ${synopsis}]\n\n${spec.about}\n\n${lines
    .map(([option, help]) => `  ${option!.padEnd(width)}${help}`)
    .join('\n')}`
  const { values } = parseOrExit(spec.command, process.argv.slice(2), { usage, options })
  const counts = {} as Record<N, number>
  for (const name of countNames) {
    const given = values[name] as string | undefined
    const count = given === undefined ? spec.counts[name][0] : Number(given)
    if (!Number.isInteger(count) || count < 1) {
      console.error(`${spec.command}: --${name} must be a whole number above 0, not ${given}`)
      process.exit(1)
    }
    counts[name] = count
  }
  const switches = {} as Record<F | 'native', boolean>
  for (const name of Object.keys(flags)) switches[name as F | 'native'] = values[name] === true
  return { counts, flags: switches }
}
