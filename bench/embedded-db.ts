/**
 * The embedded database (PGlite) in a process of its own, as `npm start` runs it beside its
 * clients, so that the benchmark's client work does not share PGlite's one thread.
 *
 * Usage: node --import tsx bench/embedded-db.ts <data dir> <port>. Prints one JSON line
 * `{"ready":true,"url":…}` when it listens; stops on SIGTERM or when stdin closes (its parent
 * is gone).
 */
import { startEmbeddedDb } from '../stack/embedded-db.ts'

const [dataDir, port] = process.argv.slice(2)
if (!dataDir || !port) {
  console.error('usage: node --import tsx bench/embedded-db.ts <data dir> <port>')
  process.exit(2)
}
const db = await startEmbeddedDb({ dataDir, port: Number(port) })
console.log(JSON.stringify({ ready: true, url: db.url }))

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  db.stop().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
