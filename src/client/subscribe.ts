/**
 * `subscribeHealth()`: the health document pushed over `GET /health/stream`, kept alive. The
 * stream sends a whole document (`event: health`) and then changes (`event: delta`); callers
 * always get whole documents (see `HealthFollower`).
 *
 * One implementation for browsers and Node: a streamed `fetch` read by our own SSE parser, not
 * `EventSource`. EventSource cannot send headers (READ_TOKEN's `Authorization`), gives up for
 * good on any non-200 answer (a `429` when MAX_STREAMS is reached, a proxy's `502` while the
 * bridge restarts), and has no backoff of its own; this reconnects with capped, jittered backoff,
 * honours `retry:` and `Retry-After`, resumes with `Last-Event-ID`, and treats a silent
 * connection (no keep-alive for `idleTimeoutMs`) as dead, which a half-open TCP stream is.
 */
import { HealthBridgeError, errorOf, urlOf, type ConnectionOptions } from './fetch-health.js'
import { HealthFollower, StreamProtocolError } from './follow.js'
import { SseParser } from './sse.js'
import type { HealthDelta, HealthDocument } from './types.js'

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface SubscribeOptions extends ConnectionOptions {
  /**
   * Called with the whole document: first the current one, then on every change (a delta
   * already applied; `meta.delta` is what it changed, null after a whole document).
   */
  onHealth: (doc: HealthDocument, meta: HealthMeta) => void
  /** Connection changes; `error` is why the last attempt ended, `retryInMs` when the next starts. */
  onState?: (state: ConnectionState, info: { error?: unknown; retryInMs?: number }) => void
  /** First reconnect delay when the bridge sent no `retry:`; default 1 s. */
  initialRetryMs?: number
  /** Cap on the reconnect delay; default 30 s. */
  maxRetryMs?: number
  /**
   * A connection silent this long is dropped and re-made; default 45 s (the bridge sends a
   * keep-alive comment at least every 5 s). 0 turns the watchdog off.
   */
  idleTimeoutMs?: number
  /** Ends the subscription, like `close()`. */
  signal?: AbortSignal
  /** Source of jitter; tests pass a constant. */
  random?: () => number
}

export interface HealthMeta {
  /** The event's id: the document's ETag. */
  etag: string
  delta: HealthDelta | null
}

export interface HealthSubscription {
  /** Stops for good: aborts the connection and any pending reconnect. */
  close(): void
  /** The id of the last event received (the document's ETag), or '' before the first. */
  readonly lastEventId: string
}

const DEFAULTS = { initialRetryMs: 1000, maxRetryMs: 30_000, idleTimeoutMs: 45_000 }

/** Full jitter on an exponential backoff: spread reconnects of many tabs after a restart. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

class StreamEnded extends Error {
  override readonly name = 'StreamEnded'
}

export function subscribeHealth(opts: SubscribeOptions): HealthSubscription {
  const initialRetryMs = opts.initialRetryMs ?? DEFAULTS.initialRetryMs
  const maxRetryMs = opts.maxRetryMs ?? DEFAULTS.maxRetryMs
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs
  const random = opts.random ?? Math.random
  const doFetch = opts.fetch ?? globalThis.fetch
  const stop = new AbortController()
  const parser = new SseParser()
  const follower = new HealthFollower()
  let closed = false
  const stopped = () => stop.signal.aborted

  const close = () => {
    if (closed) return
    closed = true
    stop.abort()
    opts.onState?.('closed', {})
  }
  if (opts.signal?.aborted) close()
  else opts.signal?.addEventListener('abort', close, { once: true })

  /** One connection, until it ends or fails; never throws. */
  async function connectOnce(): Promise<{ delivered: boolean; error: unknown }> {
    const attempt = new AbortController()
    const abort = () => {
      attempt.abort()
    }
    stop.signal.addEventListener('abort', abort, { once: true })
    let idle: ReturnType<typeof setTimeout> | undefined
    const armIdle = () => {
      if (idleTimeoutMs <= 0) return
      if (idle !== undefined) clearTimeout(idle)
      idle = setTimeout(() => {
        attempt.abort(new HealthBridgeError(`no data for ${idleTimeoutMs} ms; reconnecting`, 0))
      }, idleTimeoutMs)
    }
    let delivered = false
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers }
      parser.reset()
      if (parser.lastEventId !== '') headers['last-event-id'] = parser.lastEventId
      armIdle()
      const res = await doFetch(urlOf(opts.baseUrl, '/health/stream'), {
        headers,
        signal: attempt.signal,
      })
      if (res.status !== 200) return { delivered, error: await retryable(res) }
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
        await res.body?.cancel()
        const error = new HealthBridgeError(
          'GET /health/stream is not an event stream; is baseUrl the bridge?',
          res.status
        )
        return { delivered, error }
      }
      opts.onState?.('open', {})
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        armIdle()
        // Anything at all (a keep-alive, `retry:`) shows the connection works.
        delivered = true
        for (const event of parser.push(value)) {
          const followed = follower.apply(event)
          if (followed) deliver(followed.doc, { etag: event.id, delta: followed.delta })
        }
      }
      return { delivered, error: new StreamEnded('the bridge ended the stream') }
    } catch (err) {
      if (err instanceof StreamProtocolError) {
        // Start over: no Last-Event-ID, so the bridge sends a whole document first. It counts as
        // a failure, so a bridge that keeps breaking the rules is retried with backoff.
        follower.reset()
        parser.lastEventId = ''
        return { delivered: false, error: err }
      }
      // When we aborted (idle watchdog), our reason says more than the fetch's AbortError.
      const reason: unknown = attempt.signal.aborted ? (attempt.signal.reason as unknown) : err
      return { delivered, error: reason }
    } finally {
      if (idle !== undefined) clearTimeout(idle)
      stop.signal.removeEventListener('abort', abort)
      attempt.abort()
    }
  }

  /** The caller's handler must not break the stream; its errors surface as uncaught. */
  function deliver(doc: HealthDocument, meta: HealthMeta): void {
    try {
      opts.onHealth(doc, meta)
    } catch (err) {
      queueMicrotask(() => {
        throw err
      })
    }
  }

  async function run(): Promise<void> {
    if (stopped()) return
    let failures = 0
    opts.onState?.('connecting', {})
    while (!stopped()) {
      const { delivered, error } = await connectOnce()
      // close() may have been called while we waited.
      if (stopped()) return
      // A connection that worked and then ended (a restart, a proxy's timeout) starts over at
      // the base delay; repeated failures to connect at all back off up to maxRetryMs.
      failures = delivered ? 0 : failures + 1
      let delay = backoffDelay(failures, parser.retryMs ?? initialRetryMs, maxRetryMs, random)
      const retryAfterMs = error instanceof HealthBridgeError ? error.retryAfterMs : undefined
      if (retryAfterMs !== undefined) delay = Math.max(delay, Math.min(retryAfterMs, maxRetryMs))
      opts.onState?.('reconnecting', { error, retryInMs: delay })
      await sleep(delay, stop.signal)
    }
  }

  void run()
  return {
    close,
    get lastEventId() {
      return parser.lastEventId
    },
  }
}

async function retryable(res: Response): Promise<HealthBridgeError> {
  const err = await errorOf(res, 'GET /health/stream')
  const seconds = Number(res.headers.get('retry-after'))
  if (Number.isFinite(seconds) && seconds > 0) err.retryAfterMs = seconds * 1000
  return err
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
