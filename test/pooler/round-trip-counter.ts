/**
 * A TCP relay in front of a database that counts round trips: each time the client sends
 * after the server has answered (or first), that is one more. postgres.js writes everything it
 * has queued in one go, so a transaction sent whole counts one, however many messages it holds.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { freePort } from '../../stack/ports.ts'

/** A running relay: its URL (the database's, with the relay's port) and its count. */
export interface RoundTripCounter {
  url: string
  /** Client-to-server round trips since the last `reset`, over every connection. */
  readonly roundTrips: number
  reset(): void
  close(): Promise<void>
}

/** Starts a relay to the server of `databaseUrl`. */
export async function startRoundTripCounter(databaseUrl: string): Promise<RoundTripCounter> {
  const target = new URL(databaseUrl)
  let roundTrips = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    let answered = true // the startup message counts as the first round trip
    client.on('data', (chunk) => {
      if (answered) roundTrips++
      answered = false
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      answered = true
      client.write(chunk)
    })
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', close).on('error', close)
    upstream.on('close', close).on('error', close)
  })
  const port = await freePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    get roundTrips() {
      return roundTrips
    },
    reset() {
      roundTrips = 0
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
