/**
 * Command-line manners shared by every Matchbox command: `--help` prints the usage, an unknown
 * option names the valid ones, and a refusal is one line, not a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A refusal worth one line to the user; the command prints it and exits 1. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** How a command reads its arguments. */
export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  /** What `--help` prints: the usage line(s) and what each option does. */
  usage: string
  options: O
  /** Positional arguments accepted (default 0). */
  positionals?: { min: number; max: number }
}

/** Parsed arguments, or `help: true` when `--help` (or `-h`) was given. */
export type ParsedCommand<O extends NonNullable<ParseArgsConfig['options']>> = {
  values: ReturnType<
    typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
  >['values']
  positionals: string[]
  help: boolean
}

/**
 * Parses `argv` strictly. `--help` wins over every other problem, so that a user who is lost
 * gets the usage rather than an error about what they typed.
 *
 * @throws UsageError for an unknown option (naming the valid ones), a missing value, or the
 *   wrong number of positionals.
 * @example
 * const { values, help } = parseCommand(process.argv.slice(2), { usage, options: { 'dry-run': { type: 'boolean' } } })
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  spec: CommandSpec<O>,
): ParsedCommand<O> {
  if (argv.some((arg) => arg === '--help' || arg === '-h')) {
    return { values: {} as ParsedCommand<O>['values'], positionals: [], help: true }
  }
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: spec.options,
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError(explainParseError(error, spec.options))
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 }
  const count = parsed.positionals.length
  if (count < min || count > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`
    const extra = count > max ? `: unexpected ${JSON.stringify(parsed.positionals[max])}` : ''
    throw new UsageError(
      `expected ${expected} argument${max === 1 ? '' : 's'}, got ${count}${extra} (see --help)`,
    )
  }
  return {
    values: parsed.values as ParsedCommand<O>['values'],
    positionals: parsed.positionals,
    help: false,
  }
}

/** The names of `options` as a user types them: `--dry-run, --workdir`. */
export function optionList(options: NonNullable<ParseArgsConfig['options']>): string {
  return [...Object.keys(options).map((name) => `--${name}`), '--help'].join(', ')
}

function explainParseError(
  error: unknown,
  options: NonNullable<ParseArgsConfig['options']>,
): string {
  const failure = error as { code?: string; message?: string }
  const message = failure.message ?? String(error)
  const option = /option '(-[^' ]+)/i.exec(message)?.[1] ?? 'an option'
  if (failure.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${option}: valid options are ${optionList(options)}`
  }
  if (failure.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return message.includes('does not take an argument')
      ? `${option} takes no value`
      : `${option} needs a value (see --help)`
  }
  return message.split('\n')[0]!
}

/**
 * Runs a command's `main`, printing a UsageError (or a spec error the caller names) as one
 * line prefixed with the command, and anything else with its message; exits 1 on failure.
 */
export function runCommand(
  command: string,
  main: () => void | Promise<void>,
  isUserError: (error: unknown) => boolean = () => false,
): void {
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      if (error instanceof UsageError || isUserError(error)) {
        console.error(`${command}: ${(error as Error).message}`)
      } else {
        console.error(`${command} failed:`, error instanceof Error ? error.message : error)
      }
      process.exitCode = 1
    })
}

/**
 * For a script's top level: the parsed arguments, or it prints the usage (`--help`, exit 0)
 * or the one-line refusal (exit 1) and ends the process.
 *
 * @example
 * const { values } = parseOrExit('npm run status', process.argv.slice(2), {
 *   usage: 'usage: npm run -s status [-- --json]',
 *   options: { json: { type: 'boolean' } },
 * })
 */
export function parseOrExit<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: readonly string[],
  spec: CommandSpec<O>,
): Omit<ParsedCommand<O>, 'help'> {
  try {
    const parsed = parseCommand(argv, spec)
    if (parsed.help) {
      console.log(spec.usage)
      process.exit(0)
    }
    return parsed
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${command}: ${error.message}`)
    process.exit(1)
  }
}
