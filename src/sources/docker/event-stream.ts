/**
 * Framing for the engine's `/events` body, which is newline-delimited JSON. Transport chunks do
 * not align with events: one chunk can hold several events or a fragment of one, so we cut
 * lines ourselves and never parse a chunk (dockerode #363, wud #559).
 */
import { SourceError } from '../errors.js'

/** One event is ~1 KB; a line this long is not an event but a broken or hostile peer. */
export const MAX_LINE_BYTES = 1024 * 1024

const LF = 0x0a
const CR = 0x0d
/** Record separator that prefixes each record when the engine answers as `application/json-seq`. */
const RS = 0x1e

export class LineTooLongError extends SourceError {
  override readonly name = 'LineTooLongError'
  constructor(readonly limit: number) {
    super(`an event line exceeded ${limit} bytes`)
  }
}

/**
 * Buffers bytes across chunks and returns complete lines. Lines are decoded only once complete,
 * so a multi-byte character split between chunks survives. Empty lines are dropped.
 */
export class LineSplitter {
  private parts: Buffer[] = []
  private pending = 0

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Returns the lines completed by `chunk`; throws LineTooLongError when a line passes the cap. */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = []
    let start = 0
    for (let nl = chunk.indexOf(LF, start); nl !== -1; nl = chunk.indexOf(LF, start)) {
      const piece = chunk.subarray(start, nl)
      this.guard(piece.length)
      const line =
        this.parts.length === 0
          ? piece
          : Buffer.concat([...this.parts, piece], this.pending + piece.length)
      this.parts = []
      this.pending = 0
      const text = decodeLine(line)
      if (text !== '') lines.push(text)
      start = nl + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      this.guard(rest.length)
      // Copy: the caller may reuse the chunk's memory once push() returns.
      this.parts.push(Buffer.from(rest))
      this.pending += rest.length
    }
    return lines
  }

  /** Bytes of an incomplete line held back; a stream that ends with some left ended mid-event. */
  get buffered(): number {
    return this.pending
  }

  private guard(extra: number): void {
    if (this.pending + extra > this.maxLineBytes) {
      this.parts = []
      this.pending = 0
      throw new LineTooLongError(this.maxLineBytes)
    }
  }
}

function decodeLine(bytes: Uint8Array): string {
  let from = 0
  let to = bytes.length
  while (from < to && bytes[from] === RS) from++
  if (to > from && bytes[to - 1] === CR) to--
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from)
    .toString('utf8')
    .trim()
}
