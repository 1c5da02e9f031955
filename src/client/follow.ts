/**
 * The rules of following `GET /health/stream`, apart from any connection: an `event: health`
 * replaces the document, an `event: delta` is applied to it (`applyDelta`), and a delta with no
 * document to apply it to is a protocol error: the client must start over with a whole one.
 */
import { applyDelta } from './delta.js'
import { HealthBridgeError, asHealthDocument } from './fetch-health.js'
import type { HealthDelta, HealthDocument } from './types.js'

/** The stream broke its own rules; reconnecting without `Last-Event-ID` recovers. */
export class StreamProtocolError extends HealthBridgeError {
  override readonly name = 'StreamProtocolError'
  constructor(message: string) {
    super(message, 0)
  }
}

export interface Followed {
  doc: HealthDocument
  /** The delta that led to `doc`; null after a whole document (`event: health`). */
  delta: HealthDelta | null
}

/** Just enough of a check that garbage fails loudly instead of corrupting the document. */
function asHealthDelta(value: unknown): HealthDelta {
  const v = value as Partial<HealthDelta> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.status !== 'string' ||
    !Array.isArray(v.services) ||
    !Array.isArray(v.removed)
  ) {
    throw new StreamProtocolError('an event: delta is not a health delta')
  }
  return v as HealthDelta
}

/**
 * One event as any SSE parser gives it: ours (`SseParser`), or eventsource-parser's
 * `EventSourceParserStream` (whose `event` is undefined for unnamed events).
 */
export interface StreamEvent {
  event?: string | undefined
  data: string
}

function parse(event: StreamEvent, type: string): unknown {
  try {
    return JSON.parse(event.data)
  } catch {
    throw new StreamProtocolError(`an event: ${type} does not carry JSON`)
  }
}

export class HealthFollower {
  private current: HealthDocument | null = null

  /** The document as of the last event; kept across reconnects (a resume may send deltas). */
  get document(): HealthDocument | null {
    return this.current
  }

  /** Forgets the document, after a protocol error: the next one must be whole. */
  reset(): void {
    this.current = null
  }

  /**
   * The document after `event`, or null for event types this client does not know (ignored, as
   * EventSource ignores them). Throws `StreamProtocolError` for a delta with nothing to apply to.
   */
  apply(event: StreamEvent): Followed | null {
    if (event.event === 'health') {
      this.current = asHealthDocument(parse(event, 'health'))
      return { doc: this.current, delta: null }
    }
    if (event.event !== 'delta') return null
    if (this.current === null) {
      throw new StreamProtocolError(
        'an event: delta came before any event: health; reconnecting for a whole document'
      )
    }
    const delta = asHealthDelta(parse(event, 'delta'))
    this.current = applyDelta(this.current, delta)
    return { doc: this.current, delta }
  }
}
