/**
 * `npm run -s status [-- --json]`: the running stack's URLs, keys and JWT secret, under the
 * names `supabase status -o json` uses. Exits 1 when no stack is running.
 */
import { parseOrExit } from '../cli/args.ts'
import { stackJwtSecret } from '../stack/keys.ts'
import { readRunningStatus } from '../stack/state.ts'

const USAGE = `usage: npm run -s status [-- --json]

Prints the running stack's URLs, keys and JWT secret, under the names \`supabase status -o json\`
uses; exits 1 when no stack is running.

  --json    one JSON object instead of one line per value
  --help    this text`

const { values } = parseOrExit('npm run status', process.argv.slice(2), {
  usage: USAGE,
  options: { json: { type: 'boolean' } },
})
const status = await readRunningStatus()
if (!status) {
  console.error('Matchbox is not running: start it with `npm start`')
  process.exit(1)
}
let jwtSecret: string
try {
  jwtSecret = await stackJwtSecret(status.ANON_KEY)
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exit(1)
}
const all = { ...status, JWT_SECRET: jwtSecret }
if (values.json) {
  console.log(JSON.stringify(all))
} else {
  for (const [name, value] of Object.entries(all)) console.log(`${name.padStart(16)}: ${value}`)
}
