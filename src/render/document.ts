/**
 * The served bytes: each service's JSON is serialized once per change and kept as a UTF-8
 * buffer (its fragment); the document and the stream's deltas are concatenations of fragments
 * behind a small header. `JSON.stringify` of the same objects gives exactly these bytes.
 */
import type { BridgeView } from '../wire/health-document.js'

import type { Status } from '../model/status.js'

/** UTF-8 bytes as Node makes them (backed by a plain ArrayBuffer, which web Responses accept). */
export type Bytes = Buffer<ArrayBuffer>

const COMMA = Buffer.from(',')
const SERVICES_OPEN = Buffer.from(',"services":[')
const CLOSE_DOCUMENT = Buffer.from(']}')

/** `{"status":..,"checkedAt":..,"bridge":..` without the closing brace: the part every event shares. */
export function encodeHeader(status: Status, checkedAt: string, bridge: BridgeView): string {
  return `{"status":${JSON.stringify(status)},"checkedAt":${JSON.stringify(checkedAt)},"bridge":${JSON.stringify(bridge)}`
}

function withCommas(fragments: readonly Bytes[]): Bytes[] {
  const parts: Bytes[] = []
  fragments.forEach((f, i) => {
    if (i > 0) parts.push(COMMA)
    parts.push(f)
  })
  return parts
}

/** The whole document: header, then every service's fragment in name order. */
export function assembleDocument(header: string, fragments: readonly Bytes[]): Bytes {
  return Buffer.concat([
    Buffer.from(header),
    SERVICES_OPEN,
    ...withCommas(fragments),
    CLOSE_DOCUMENT,
  ])
}

/** One `event: delta`: the header, the changed services' fragments and the removed names. */
export function assembleDelta(
  header: string,
  fragments: readonly Bytes[],
  removed: readonly string[]
): Bytes {
  return Buffer.concat([
    Buffer.from(header),
    SERVICES_OPEN,
    ...withCommas(fragments),
    Buffer.from(`],"removed":${JSON.stringify(removed)}}`),
  ])
}
