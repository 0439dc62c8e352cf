/**
 * Round trips to the database per request, counted on the wire: a TCP proxy between a layer
 * and the database sees every byte either way. A round trip is the client sending after the
 * server has answered (or for the first time) on a connection: statements written together
 * before any answer is read count once, however many there are; each wait for an answer
 * before the next write counts again. Statements are counted too, as the server's
 * ReadyForQuery messages (one per Sync: one per statement postgres.js sends).
 */
import net from 'node:net'

/** What the proxy counted since it started or was last reset. */
export interface WireCounts {
  /** Client writes that followed an answer (or opened the exchange), over all connections. */
  roundTrips: number
  /** ReadyForQuery messages from the server: statements (Syncs) answered. */
  statements: number
  connections: number
}

/** A counting proxy on a free loopback port. */
export interface CountingProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url: string
  counts(): WireCounts
  reset(): void
  close(): Promise<void>
}

/** SSLRequest's code: the server answers it with one byte, not a message. */
const SSL_REQUEST = 80877103

/**
 * Per connection, reads the server's messages (type byte, 4-byte length) out of the stream
 * to count ReadyForQuery ('Z'); the client's side only needs its direction changes.
 */
class ServerStream {
  #buffer = Buffer.alloc(0)
  /** Bytes to skip before the next message: the one-byte answer to an SSLRequest. */
  skip = 0

  /** The number of ReadyForQuery messages completed by `chunk`. */
  readyMessages(chunk: Buffer): number {
    let data = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk
    if (this.skip) {
      const skipped = Math.min(this.skip, data.length)
      data = data.subarray(skipped)
      this.skip -= skipped
    }
    let ready = 0
    let offset = 0
    while (data.length - offset >= 5) {
      const length = data.readUInt32BE(offset + 1)
      if (data.length - offset < 1 + length) break
      if (data[offset] === 0x5a) ready++ // 'Z'
      offset += 1 + length
    }
    this.#buffer = Buffer.from(data.subarray(offset))
    return ready
  }
}

/**
 * Starts a proxy to the database at `url` and answers the URL to connect to instead.
 *
 * @example
 * const proxy = await startCountingProxy(dbUrl)
 * // … point a client at proxy.url, run requests …
 * proxy.counts().roundTrips / requests
 */
export async function startCountingProxy(url: string): Promise<CountingProxy> {
  const target = new URL(url)
  const targetPort = Number(target.port || 5432)
  let counts: WireCounts = { roundTrips: 0, statements: 0, connections: 0 }
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    counts.connections++
    const upstream = net.connect(targetPort, target.hostname)
    sockets.add(client).add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const stream = new ServerStream()
    let serverSpoke = true
    let first = true
    client.on('data', (chunk) => {
      if (first && chunk.length >= 8 && chunk.readUInt32BE(4) === SSL_REQUEST) stream.skip = 1
      first = false
      if (serverSpoke) counts.roundTrips++
      serverSpoke = false
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      serverSpoke = true
      counts.statements += stream.readyMessages(chunk)
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String((server.address() as net.AddressInfo).port)
  return {
    url: proxied.toString(),
    counts: () => ({ ...counts }),
    reset: () => {
      counts = { roundTrips: 0, statements: 0, connections: 0 }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
