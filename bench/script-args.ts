/**
 * The command line of the side benchmarks (`bench:filters`, `bench:filtered`, `bench:hybrid`):
 * `--help` prints the usage, an unknown option or a count that is not a whole number above 0
 * is refused in one line naming it, before any stack starts.
 */
import type { ParseArgsConfig } from 'node:util'
import { parseOrExit } from '../cli/args.ts'

/** Counts (as `--name N`) and whether to run on native PostgreSQL. */
export function benchArgs<N extends string>(
  command: string,
  usage: string,
  counts: Readonly<Record<N, number>>,
): { counts: Record<N, number>; native: boolean } {
  const options: NonNullable<ParseArgsConfig['options']> = {
    native: { type: 'boolean', default: false },
  }
  for (const name of Object.keys(counts)) options[name] = { type: 'string' }
  const { values } = parseOrExit(command, process.argv.slice(2), { usage, options })
  const parsed = {} as Record<N, number>
  for (const name of Object.keys(counts) as N[]) {
    const given = values[name] as string | undefined
    const count = given === undefined ? counts[name] : Number(given)
    if (!Number.isInteger(count) || count < 1) {
      console.error(`${command}: --${name} must be a whole number above 0, not ${given}`)
      process.exit(1)
    }
    parsed[name] = count
  }
  return { counts: parsed, native: values.native === true }
}
