/**
 * An incremental Server-Sent Events parser, as the HTML standard's EventSource parses: chunks
 * are not lines, lines end in CRLF, LF or CR, `:` starts a comment, a blank line dispatches.
 */
export interface SseEvent {
  /** `message` when the event names no type. */
  readonly event: string
  readonly data: string
  /** The stream's last event id after this event (ids persist until changed). */
  readonly id: string
}

export class SseParser {
  private buffer = ''
  private data: string[] = []
  private eventType = ''
  private sawCr = false
  /** The last `id:` seen: what to send as `Last-Event-ID` when reconnecting. */
  lastEventId = ''
  /** The last valid `retry:` in milliseconds, if the server sent one. */
  retryMs: number | null = null

  /**
   * Forgets a half-received event (a connection that broke mid-event), as EventSource does when
   * it reconnects; `lastEventId` and `retryMs` stay.
   */
  reset(): void {
    this.buffer = ''
    this.data = []
    this.eventType = ''
    this.sawCr = false
  }

  /** Feeds decoded text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    const events: SseEvent[] = []
    let text = chunk
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1)
    this.sawCr = false
    this.buffer += text
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i]
      if (ch !== '\n' && ch !== '\r') continue
      const line = this.buffer.slice(start, i)
      if (ch === '\r') {
        if (i + 1 === this.buffer.length) this.sawCr = true
        else if (this.buffer[i + 1] === '\n') i++
      }
      start = i + 1
      const event = this.line(line)
      if (event) events.push(event)
    }
    this.buffer = this.buffer.slice(start)
    return events
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) return null
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.eventType = value
        break
      case 'data':
        this.data.push(value)
        break
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value)
        break
      default:
      // Unknown fields are ignored, as EventSource does.
    }
    return null
  }

  private dispatch(): SseEvent | null {
    const type = this.eventType
    const data = this.data
    this.eventType = ''
    this.data = []
    if (data.length === 0) return null
    return { event: type === '' ? 'message' : type, data: data.join('\n'), id: this.lastEventId }
  }
}
