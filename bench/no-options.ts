/**
 * The command line of a benchmark that takes no options (`bench:json`, `bench:request`):
 * `--help` prints what it measures, anything else is refused in one line. Runtime-neutral:
 * the Deno scripts pass `Deno.args` and exit with the code given.
 */

/** What to print and the exit code, or undefined when the benchmark should run. */
export interface Refusal {
  code: 0 | 1
  /** For standard output when `code` is 0 (the usage), standard error otherwise. */
  message: string
}

/**
 * Reads `args` for a benchmark that takes none.
 *
 * @example
 * takeNoOptions('npm run bench:json', 'What writing an answer costs.', ['--x'])
 * // { code: 1, message: 'npm run bench:json: takes no options (see --help), not --x' }
 */
export function takeNoOptions(
  command: string,
  about: string,
  args: readonly string[],
): Refusal | undefined {
  if (args.length === 0) return undefined
  if (args.length === 1 && args[0] === '--help')
    return { code: 0, message: `usage: ${command}\n\n${about}` }
  return { code: 1, message: `${command}: takes no options (see --help), not ${args.join(' ')}` }
}

/**
 * Exits with `takeNoOptions`'s answer when there is one (the usage, or the refusal on standard
 * error); returns when the benchmark should run.
 */
export function refuseOptions(
  command: string,
  about: string,
  args: readonly string[],
  exit: (code: number) => never,
): void {
  const refusal = takeNoOptions(command, about, args)
  if (!refusal) return
  ;(refusal.code === 0 ? console.log : console.error)(refusal.message)
  exit(refusal.code)
}
