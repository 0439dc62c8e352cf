/**
 * Round trips to the database per request, counted on the wire: a TCP proxy between a layer
 * and the database sees every byte either way, and reads the protocol's message frames. A
 * round trip is a write from the client when everything it had sent before is answered (its
 * every Sync met by a ReadyForQuery) and the server has spoken since its last counted write:
 * the client had nothing pending, so it was waiting. Statements written together count once,
 * however the driver splits them into socket writes; each wait for an answer before the next
 * write counts again. Statements are counted too, as the server's ReadyForQuery messages (one
 * per Sync or simple Query: one per statement postgres.js sends).
 */
import net from 'node:net'

/** What the proxy counted since it started or was last reset. */
export interface WireCounts {
  /** Client writes with nothing pending, after the server spoke (see the module comment). */
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
const SYNC = 0x53 // 'S'
const QUERY = 0x51 // 'Q'
const READY_FOR_QUERY = 0x5a // 'Z'

/**
 * One direction of a connection, cut into messages (type byte, 4-byte length including
 * itself). The client's first message, and its second after an SSLRequest, has no type byte.
 */
class MessageStream {
  #buffer = Buffer.alloc(0)
  /** Untyped messages still to come (the client's startup). */
  untyped: number
  /** Bytes to skip before the next message: the server's one-byte answer to an SSLRequest. */
  skip = 0

  constructor(untyped: number) {
    this.untyped = untyped
  }

  /**
   * The type bytes of the messages `chunk` completes: 0 for a startup message, -1 for an
   * SSLRequest (after which another startup message is to come).
   */
  types(chunk: Buffer): number[] {
    let data = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk
    if (this.skip) {
      const skipped = Math.min(this.skip, data.length)
      data = data.subarray(skipped)
      this.skip -= skipped
    }
    const types: number[] = []
    let offset = 0
    for (;;) {
      if (this.untyped > 0) {
        if (data.length - offset < 8) break
        const length = data.readUInt32BE(offset)
        if (data.length - offset < length) break
        const ssl = data.readUInt32BE(offset + 4) === SSL_REQUEST
        if (!ssl) this.untyped--
        types.push(ssl ? -1 : 0)
        offset += length
        continue
      }
      if (data.length - offset < 5) break
      const length = data.readUInt32BE(offset + 1)
      if (data.length - offset < 1 + length) break
      types.push(data[offset]!)
      offset += 1 + length
    }
    this.#buffer = Buffer.from(data.subarray(offset))
    return types
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
    const fromClient = new MessageStream(1)
    const fromServer = new MessageStream(0)
    // Answers the client waits for: one ReadyForQuery per Sync or Query, and one for its startup.
    let pending = 0
    let serverSpoke = true
    client.on('data', (chunk) => {
      if (pending === 0 && serverSpoke) counts.roundTrips++
      serverSpoke = false
      for (const type of fromClient.types(chunk)) {
        // An SSLRequest's answer is one byte, not a message.
        if (type === -1) fromServer.skip++
        else if (type === SYNC || type === QUERY || type === 0) pending++
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      serverSpoke = true
      for (const type of fromServer.types(chunk)) {
        if (type !== READY_FOR_QUERY) continue
        counts.statements++
        pending = Math.max(0, pending - 1)
      }
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
