/**
 * `npm run -s status [-- --json]`: the running stack's URLs and keys, under the names
 * `supabase status -o json` uses. Exits 1 when no stack is running.
 */
import { readRunningStatus } from '../stack/state.ts'

const status = await readRunningStatus()
if (!status) {
  console.error('Matchbox is not running: start it with `npm start`')
  process.exit(1)
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(status))
} else {
  for (const [name, value] of Object.entries(status)) console.log(`${name.padStart(16)}: ${value}`)
}
