/**
 * Read-your-writes across replicas: a write's answer carries a consistency token (the WAL
 * position after its commit) in `CONSISTENCY_HEADER`; a read that sends it back runs only
 * where that position has been replayed (replicas.ts). Kept per request by its caller object,
 * which the pipeline makes once per request; imports nothing but errors, so that the pipeline
 * can use it without the database code.
 */
import { HttpError } from './errors.ts'

/** The header that carries a consistency token, both ways. */
export const CONSISTENCY_HEADER = 'x-matchbox-consistency'

/** A WAL position, as a number that compares (`pg_lsn` text is `hi/lo` in hex). */
export type Lsn = bigint

/** The `pg_lsn` text `0/1A2B3C` as a number; undefined for anything else. */
export function parseLsn(text: string | null | undefined): Lsn | undefined {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text?.trim() ?? '')
  if (!match) return undefined
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)
}

/** A WAL position as `pg_lsn` text. */
export function formatLsn(lsn: Lsn): string {
  const high = (lsn >> 32n).toString(16).toUpperCase()
  return `${high}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
}

/** Per request (its caller object): the position its reads must see, and its last write's. */
const positions = new WeakMap<object, { after?: Lsn; wrote?: Lsn }>()

/**
 * Takes the request's consistency token (the `CONSISTENCY_HEADER` value, or null): its reads
 * will run only where that position has been replayed.
 *
 * @throws HttpError 400 when the token is not a WAL position.
 * @example
 * readAfter(caller, request.headers.get(CONSISTENCY_HEADER))
 */
export function readAfter(caller: object, token: string | null): void {
  if (token === null || token.trim() === '') return
  const lsn = parseLsn(token)
  if (lsn === undefined) {
    throw new HttpError(
      400,
      'invalid_request',
      `${CONSISTENCY_HEADER}: ${JSON.stringify(token.slice(0, 40))} is not a consistency token: send back the one a write answered`,
    )
  }
  positions.set(caller, { ...positions.get(caller), after: lsn })
}

/**
 * The headers that carry the request's consistency token after its writes (the WAL position
 * after its last commit): none when it wrote nothing or no replica is configured.
 *
 * @example
 * jsonResponse(200, body, consistencyHeaders(caller))
 */
export function consistencyHeaders(caller: object): Record<string, string> {
  const wrote = positions.get(caller)?.wrote
  return wrote === undefined ? {} : { [CONSISTENCY_HEADER]: formatLsn(wrote) }
}

/** The position the request's reads must see, if it sent a token. */
export function readsAfter(caller: object): Lsn | undefined {
  return positions.get(caller)?.after
}

/** Notes that the request committed a write that ends at `lsn`. */
export function wroteAt(caller: object, lsn: Lsn): void {
  const known = positions.get(caller)
  if (known?.wrote === undefined || lsn > known.wrote)
    positions.set(caller, { ...known, wrote: lsn })
}
