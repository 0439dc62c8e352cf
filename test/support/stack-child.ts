/**
 * A stack in a process of its own, for the test that kills that process:
 * `node --import tsx test/support/stack-child.ts <data dir>` prints one JSON line,
 * `{"functionsPid":…,"apiPort":…}`, once the stack is up, and then waits.
 */
import { freePort } from '../../stack/ports.ts'
import { startStack } from '../../stack/stack.ts'

const [dataDir] = process.argv.slice(2)
if (!dataDir) throw new Error('usage: stack-child.ts <data dir>')
const apiPort = await freePort()
const stack = await startStack({
  dataDir,
  apiPort,
  dbPort: await freePort(),
  playgroundPort: await freePort(),
  log: () => {},
})
console.log(JSON.stringify({ functionsPid: stack.functions.process.pid, apiPort }))
setInterval(() => {}, 60_000)
