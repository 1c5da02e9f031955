/**
 * The open `GET /health/stream` connections: one subscription to the store fans each change out
 * to every stream, as a delta (the changed services) or, with `?full=1`, the whole document.
 * Each event is encoded once, however many streams are open. The hub also caps the streams,
 * keeps them alive, drops clients that stop reading, and ends them all on shutdown.
 *
 * Every event's `id` is the document's weak ETag. A client that resumes (`Last-Event-ID`) from
 * the current tag gets nothing again; from a recent one, one delta that catches it up; from
 * anything else, the whole document.
 */
import type { Logger } from '../logger.js'
import { assembleDelta, encodeHeader, type Bytes } from '../render/document.js'
import type { Change, Rendered } from '../store/health-store.js'

import { ResumeLog } from './resume-log.js'
import { sseEvent, SSE_DATA_PREFIX } from './sse-event.js'

/** A comment this often: proxies keep the stream open, and hubs tell silence from loss. */
export const SSE_KEEPALIVE_MS = 5_000
/** Sent as `retry:`: how long an EventSource waits before it reconnects. */
export const SSE_RETRY_MS = 3_000
/**
 * A client that stops reading is cut off once this much is queued for it (beyond what the
 * kernel and Node's socket buffer already hold), and its connection closed. Nothing is lost: it
 * reconnects and catches up from its `Last-Event-ID`.
 */
export const SSE_MAX_QUEUED_BYTES = 4 * 1024 * 1024

const QUEUE_HIGH_WATER_MARK = 64 * 1024

/** What the hub needs from the store. */
export interface StreamSource {
  current(): Rendered
  subscribe(listener: (change: Change) => void): () => void
  /** The current object of one service, to catch a resuming client up. */
  service(name: string): { body: Bytes } | undefined
}

export interface StreamHubOptions {
  source: StreamSource
  logger: Logger
  maxStreams: number
  keepAliveMs?: number
  retryMs?: number
  maxQueuedBytes?: number
}

export interface OpenOptions {
  /** The client's `Last-Event-ID`. */
  lastEventId?: string | undefined
  /**
   * `?keepAlive=`: how often this stream wants a comment when nothing changes, at most the
   * hub's own interval (a hub that loses a peer after 3 s of silence asks for one a second).
   */
  keepAliveMs?: number | undefined
  /** `?full=1`: the whole document on every change instead of deltas. */
  full?: boolean
  /** The request's signal: the stream ends when the client goes away. */
  signal?: AbortSignal | undefined
  /**
   * Closes the connection at once, for a client dropped because it stopped reading: ending its
   * stream would wait for it to read what is queued, keeping the bytes for as long as it holds
   * the connection open.
   */
  cut?: (() => void) | undefined
}

interface OpenStream {
  readonly controller: ReadableStreamDefaultController<Uint8Array>
  readonly cut: (() => void) | undefined
  readonly full: boolean
  readonly keepAliveMs: number
  /** The ETag of the last document this client has (sent or resumed). */
  lastEtag: string
  close(reason: string): void
}

const encoder = new TextEncoder()
const PING = encoder.encode(': keep-alive\n\n')

export class StreamHub {
  private readonly streams = new Set<OpenStream>()
  private readonly log: Logger
  private readonly keepAliveMs: number
  private readonly retryMs: number
  private readonly maxQueuedBytes: number
  private readonly resume = new ResumeLog()
  private unsubscribe: (() => void) | null = null
  /** One timer per keep-alive interval in use, with the streams that asked for it. */
  private readonly keepAlives = new Map<
    number,
    { timer: NodeJS.Timeout; streams: Set<OpenStream> }
  >()
  private encodedFull: { etag: string; bytes: Uint8Array } | null = null
  private atCapacityLogged = false
  private closed = false

  constructor(private readonly opts: StreamHubOptions) {
    this.log = opts.logger.child({ module: 'stream' })
    this.keepAliveMs = opts.keepAliveMs ?? SSE_KEEPALIVE_MS
    this.retryMs = opts.retryMs ?? SSE_RETRY_MS
    this.maxQueuedBytes = opts.maxQueuedBytes ?? SSE_MAX_QUEUED_BYTES
  }

  get size(): number {
    return this.streams.size
  }

  get maxStreams(): number {
    return this.opts.maxStreams
  }

  /** A new event stream, or null when `maxStreams` are already open. */
  open(options: OpenOptions = {}): ReadableStream<Uint8Array> | null {
    if (this.closed) return this.goodbye()
    if (this.streams.size >= this.opts.maxStreams) {
      if (!this.atCapacityLogged) {
        this.atCapacityLogged = true
        this.log.warn({ maxStreams: this.opts.maxStreams }, 'stream refused: MAX_STREAMS reached')
      }
      return null
    }
    const { signal } = options
    let stream: OpenStream | undefined
    const onAbort = () => {
      stream?.close('client went away')
    }
    const cleanup = (reason: string) => {
      if (!stream || !this.streams.delete(stream)) return
      this.stopKeepAlive(stream)
      signal?.removeEventListener('abort', onAbort)
      if (this.streams.size < this.opts.maxStreams) this.atCapacityLogged = false
      if (this.streams.size === 0) this.idle()
      this.log.debug({ open: this.streams.size, reason }, 'stream closed')
    }
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.follow()
          // Reading may re-judge and notify: the hub is subscribed first, so that change is
          // recorded, and this stream starts from the document it returns.
          const current = this.opts.source.current()
          stream = {
            controller,
            cut: options.cut,
            full: options.full ?? false,
            keepAliveMs: Math.min(options.keepAliveMs ?? this.keepAliveMs, this.keepAliveMs),
            lastEtag: current.etag,
            close: (reason) => {
              cleanup(reason)
              try {
                controller.close()
              } catch {
                // Already closed or errored (the client cancelled): nothing left to end.
              }
            },
          }
          this.streams.add(stream)
          this.startKeepAlive(stream)
          controller.enqueue(encoder.encode(sseEvent({ retry: this.retryMs })))
          this.first(stream, current, options.lastEventId)
          signal?.addEventListener('abort', onAbort)
          if (signal?.aborted) onAbort()
          this.log.debug({ open: this.streams.size }, 'stream opened')
        },
        cancel: () => {
          cleanup('client went away')
        },
      },
      // Bytes, so desiredSize says how far behind a slow client is.
      new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_HIGH_WATER_MARK })
    )
  }

  /** Ends every open stream cleanly (clients see the end, not a reset) and refuses new ones. */
  closeAll(): void {
    this.closed = true
    const bye = encoder.encode(': the bridge is shutting down\n\n')
    for (const s of [...this.streams]) {
      this.enqueue(s, bye)
      s.close('shutdown')
    }
    this.idle()
  }

  /** Shutting down: tell the client when to come back, and end at once. */
  private goodbye(): ReadableStream<Uint8Array> {
    return new ReadableStream({
      start: (controller) => {
        controller.enqueue(encoder.encode(sseEvent({ retry: this.retryMs })))
        controller.close()
      },
    })
  }

  /** The first event: nothing (resumed at the current tag), a catch-up delta, or the document. */
  private first(s: OpenStream, current: Rendered, lastEventId: string | undefined): void {
    if (lastEventId === current.etag) return
    const missed = s.full || lastEventId === undefined ? null : this.resume.since(lastEventId)
    if (missed === null) {
      this.enqueue(s, this.fullEvent(current))
      return
    }
    const fragments: Bytes[] = []
    const removed: string[] = []
    for (const name of [...missed].sort()) {
      const svc = this.opts.source.service(name)
      if (svc) fragments.push(svc.body)
      else removed.push(name)
    }
    const { status, checkedAt, bridge } = current.doc
    const data = assembleDelta(encodeHeader(status, checkedAt, bridge), fragments, removed)
    this.enqueue(s, eventBytes('delta', current.etag, data))
  }

  /** Subscribes the hub to the store while any stream is open. */
  private follow(): void {
    if (this.unsubscribe) return
    this.resume.reset(this.opts.source.current().etag)
    this.unsubscribe = this.opts.source.subscribe((change) => {
      this.onChange(change)
    })
  }

  private idle(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.resume.reset(null)
  }

  private onChange(change: Change): void {
    const from = this.resume.current
    const to = change.rendered.etag
    this.resume.record(to, [...change.services.map((s) => s.name), ...change.removed])
    let delta: Uint8Array | null = null
    for (const s of [...this.streams]) {
      if (s.lastEtag === to) continue
      if (s.full || s.lastEtag !== from) {
        // A client that is not at the change's starting point gets the whole document.
        this.enqueue(s, this.fullEvent(change.rendered))
      } else {
        delta ??= eventBytes('delta', to, change.delta)
        this.enqueue(s, delta)
      }
      s.lastEtag = to
    }
  }

  private fullEvent(rendered: Rendered): Uint8Array {
    if (this.encodedFull?.etag !== rendered.etag) {
      this.encodedFull = {
        etag: rendered.etag,
        bytes: eventBytes('health', rendered.etag, rendered.body),
      }
    }
    return this.encodedFull.bytes
  }

  private enqueue(s: OpenStream, bytes: Uint8Array): void {
    // desiredSize is the high-water mark minus what is queued and not yet taken by the socket.
    const queued = QUEUE_HIGH_WATER_MARK - (s.controller.desiredSize ?? 0)
    if (queued > 0 && queued + bytes.byteLength > this.maxQueuedBytes) {
      this.log.warn({ queuedBytes: queued }, 'stream dropped: the client is not reading')
      s.close('client not reading')
      s.cut?.()
      return
    }
    try {
      s.controller.enqueue(bytes)
    } catch {
      // The stream was cancelled between the check and now.
      s.close('enqueue failed')
    }
  }

  private startKeepAlive(s: OpenStream): void {
    let group = this.keepAlives.get(s.keepAliveMs)
    if (!group) {
      const streams = new Set<OpenStream>()
      const timer = setInterval(() => {
        for (const each of [...streams]) this.enqueue(each, PING)
      }, s.keepAliveMs)
      timer.unref()
      group = { timer, streams }
      this.keepAlives.set(s.keepAliveMs, group)
    }
    group.streams.add(s)
  }

  private stopKeepAlive(s: OpenStream): void {
    const group = this.keepAlives.get(s.keepAliveMs)
    if (!group) return
    group.streams.delete(s)
    if (group.streams.size > 0) return
    clearInterval(group.timer)
    this.keepAlives.delete(s.keepAliveMs)
  }
}

/** One event whose data is a single line of JSON (JSON never holds a raw newline). */
function eventBytes(event: 'health' | 'delta', id: string, json: Uint8Array): Uint8Array {
  return Buffer.concat([
    Buffer.from(`id: ${id}\nevent: ${event}\n${SSE_DATA_PREFIX}`),
    json,
    Buffer.from('\n\n'),
  ])
}
