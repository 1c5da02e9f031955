/**
 * `GET /health/stream`: the health document as Server-Sent Events. The first event is the whole
 * current document, then one event each time it changes (the store's `subscribe` fires for
 * deadline-driven flips too). Every event's `id` is the document's weak ETag, so a reconnecting
 * client whose `Last-Event-ID` is still current is not sent the same document again, and the id
 * stays meaningful across bridge restarts (a counter would not).
 */
import { Hono } from 'hono'
import { z } from 'zod'

import type { Logger } from '../../logger.js'
import type { HealthStore, Rendered } from '../../state/health-store.js'
import { HttpError } from '../errors.js'
import { parseQuery } from '../query.js'

/** A comment line this often keeps proxies and load balancers from cutting an idle stream. */
export const SSE_KEEPALIVE_MS = 15_000
/** Sent as `retry:`: how long an EventSource waits before it reconnects. */
export const SSE_RETRY_MS = 3_000
/**
 * A client that stops reading is cut off once this much is queued for it (each event is a whole
 * document, so nothing is lost: it reconnects and gets the current one).
 */
export const SSE_MAX_QUEUED_BYTES = 4 * 1024 * 1024

const QUEUE_HIGH_WATER_MARK = 64 * 1024

export const streamQuerySchema = z.strictObject({})

const encoder = new TextEncoder()

/** What the stream needs from the store. */
export type StreamSource = Pick<HealthStore, 'current' | 'subscribe'>

export interface StreamHubOptions {
  source: StreamSource
  logger: Logger
  maxStreams: number
  keepAliveMs?: number
  retryMs?: number
  maxQueuedBytes?: number
}

interface OpenStream {
  readonly controller: ReadableStreamDefaultController<Uint8Array>
  lastEtag: string | null
  close(reason: string): void
}

/** Serializes one SSE event; `data` may hold newlines (each becomes its own `data:` line). */
export function sseEvent(fields: {
  event?: string
  id?: string
  retry?: number
  data?: string
}): string {
  let out = ''
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`
  if (fields.id !== undefined) out += `id: ${fields.id.replace(/[\r\n\0]/g, '')}\n`
  if (fields.event !== undefined) out += `event: ${fields.event}\n`
  if (fields.data !== undefined)
    for (const line of fields.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return `${out}\n`
}

/**
 * The open streams: their cap, their keep-alive, and closing them all on shutdown. One hub per
 * running bridge; `bridge.ts` calls `closeAll()` before it closes the server.
 */
export class StreamHub {
  private readonly streams = new Set<OpenStream>()
  private readonly log: Logger
  private readonly keepAliveMs: number
  private readonly retryMs: number
  private readonly maxQueuedBytes: number
  private keepAliveTimer: NodeJS.Timeout | null = null
  private encoded: { etag: string; bytes: Uint8Array } | null = null
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

  /**
   * A new event stream, or null when `maxStreams` are already open. `lastEventId` is the
   * client's `Last-Event-ID`: when it is the current ETag, the first event is skipped.
   * `signal` (the request's) ends the stream when the client goes away.
   */
  open(lastEventId: string | undefined, signal?: AbortSignal): ReadableStream<Uint8Array> | null {
    if (this.closed) {
      // Shutting down: tell the client when to come back, and end at once.
      return new ReadableStream({
        start: (controller) => {
          controller.enqueue(encoder.encode(sseEvent({ retry: this.retryMs })))
          controller.close()
        },
      })
    }
    if (this.streams.size >= this.opts.maxStreams) {
      if (!this.atCapacityLogged) {
        this.atCapacityLogged = true
        this.log.warn({ maxStreams: this.opts.maxStreams }, 'stream refused: MAX_STREAMS reached')
      }
      return null
    }
    let stream: OpenStream | undefined
    let unsubscribe: (() => void) | undefined
    const cleanup = (reason: string) => {
      if (!stream || !this.streams.delete(stream)) return
      unsubscribe?.()
      signal?.removeEventListener('abort', onAbort)
      if (this.streams.size < this.opts.maxStreams) this.atCapacityLogged = false
      if (this.streams.size === 0) this.stopKeepAlive()
      this.log.debug({ open: this.streams.size, reason }, 'stream closed')
    }
    const onAbort = () => {
      stream?.close('client went away')
    }
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const s: OpenStream = {
            controller,
            lastEtag: null,
            close: (reason) => {
              cleanup(reason)
              try {
                controller.close()
              } catch {
                // Already closed or errored (the client cancelled): nothing left to end.
              }
            },
          }
          stream = s
          this.streams.add(s)
          this.startKeepAlive()
          // Read the current document before subscribing: reading may re-judge, and that render
          // must reach this stream once, as its first event.
          const current = this.opts.source.current()
          const resumed = lastEventId === current.etag
          controller.enqueue(encoder.encode(sseEvent({ retry: this.retryMs })))
          if (resumed) s.lastEtag = current.etag
          else this.send(s, current)
          unsubscribe = this.opts.source.subscribe((rendered) => {
            this.send(s, rendered)
          })
          signal?.addEventListener('abort', onAbort)
          if (signal?.aborted) onAbort()
          this.log.debug({ open: this.streams.size, resumed }, 'stream opened')
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
    this.stopKeepAlive()
  }

  private send(s: OpenStream, rendered: Rendered): void {
    if (s.lastEtag === rendered.etag) return
    s.lastEtag = rendered.etag
    // One encoding per document, however many streams are open.
    if (this.encoded?.etag !== rendered.etag) {
      this.encoded = {
        etag: rendered.etag,
        bytes: encoder.encode(
          sseEvent({ event: 'health', id: rendered.etag, data: rendered.body })
        ),
      }
    }
    this.enqueue(s, this.encoded.bytes)
  }

  private enqueue(s: OpenStream, bytes: Uint8Array): void {
    // desiredSize is the high-water mark minus what is queued and not yet taken by the socket.
    const queued = QUEUE_HIGH_WATER_MARK - (s.controller.desiredSize ?? 0)
    if (queued > 0 && queued + bytes.byteLength > this.maxQueuedBytes) {
      this.log.warn({ queuedBytes: queued }, 'stream dropped: the client is not reading')
      s.close('client not reading')
      return
    }
    try {
      s.controller.enqueue(bytes)
    } catch {
      // The stream was cancelled between the check and now.
      s.close('enqueue failed')
    }
  }

  private startKeepAlive(): void {
    if (this.keepAliveTimer) return
    const ping = encoder.encode(': keep-alive\n\n')
    this.keepAliveTimer = setInterval(() => {
      for (const s of [...this.streams]) this.enqueue(s, ping)
    }, this.keepAliveMs)
    this.keepAliveTimer.unref()
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer)
    this.keepAliveTimer = null
  }
}

export function streamRoutes(deps: { hub: StreamHub }): Hono {
  const { hub } = deps
  const app = new Hono()

  app.get('/health/stream', (c) => {
    parseQuery(c, streamQuerySchema)
    const headers = {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: compressing proxies must not buffer events; X-Accel-Buffering: nginx.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      // A stream's connection is not reused: when the stream ends (shutdown, a dropped slow
      // client) the socket closes with it, instead of idling until a keep-alive timeout.
      connection: 'close',
    }
    // Hono answers HEAD with the GET handler and drops the body unread: open nothing for it.
    if (c.req.method === 'HEAD') return c.body(null, 200, headers)
    const body = hub.open(c.req.header('last-event-id'), c.req.raw.signal)
    if (!body) {
      const why =
        hub.maxStreams === 0
          ? 'the event stream is turned off (MAX_STREAMS=0)'
          : `${hub.maxStreams} event streams are already open (MAX_STREAMS)`
      throw new HttpError(
        429,
        'too_many_streams',
        `${why}; poll GET /health with If-None-Match instead`,
        undefined,
        { 'retry-after': '30' }
      )
    }
    return new Response(body, { status: 200, headers })
  })

  return app
}
