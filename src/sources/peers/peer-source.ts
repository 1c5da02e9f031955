/**
 * Following one peer bridge, as a hub does:
 *
 *   connecting ──▶ syncing ──▶ following
 *       ▲                          │ stream ended, failed, silent, or sent garbage
 *       └──── disconnected ◀───────┘ (capped jittered backoff, then resume)
 *
 * Each attempt opens the peer's `GET /health/stream` with PEER_TOKEN. The first `event: health`
 * is the peer's whole document (syncing → following); every `event: delta` after it is applied
 * in order. A reconnect sends `Last-Event-ID`, so a short blip costs one catch-up delta, not a
 * whole document; with a copy to resume, the hub follows as soon as the stream opens. Anything
 * the peer sends is validated with the schemas the bridge itself serves: garbage, an oversized
 * event or a wrong shape ends the attempt with a reason, and never reaches the document.
 */
import type { Clock } from '../../clock.js'
import { SseParser, type SseEvent } from '../../client/sse.js'
import type { PeerConfig } from '../../config/config.js'
import type { Logger } from '../../logger.js'
import type { PeerState, PeerStatus } from '../../model/observations.js'
import { healthDeltaSchema, healthDocumentSchema } from '../../wire/health-document.js'
import { sleep } from '../async.js'
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff.js'
import { describeError } from '../errors.js'
import type { HealthSource, PeerSink } from '../source.js'

import { PeerError, followPeerStream } from './peer-stream.js'

export interface PeerSourceOptions {
  peer: PeerConfig
  token: string | null
  ca: string | null
  /** PEER_STALE_AFTER: silence this long ends the connection (and, in the store, loses the peer). */
  staleAfterMs: number
  sink: PeerSink
  logger: Logger
  clock: Clock
  backoff?: BackoffOptions
  /** A connection that followed this long resets the backoff. */
  resetBackoffAfterMs?: number
  /** An event (a whole document) larger than this ends the attempt. */
  maxEventBytes?: number
}

/** Far above any real document (5,000 instances serialize to about 1.6 MB). */
export const MAX_PEER_EVENT_BYTES = 64 * 1024 * 1024
/**
 * The keep-alive to ask a peer for: three in every PEER_STALE_AFTER, so one lost or late comment
 * never loses a peer that is only quiet; between the 1 s and 5 s a bridge accepts.
 */
export function keepAliveFor(staleAfterMs: number): number {
  return Math.min(5000, Math.max(1000, Math.floor(staleAfterMs / 3)))
}

/** How much of a schema complaint goes into `detail` (it names paths, never values). */
const DETAIL_CHARS = 200

export class PeerSource implements HealthSource {
  private readonly log: Logger
  private readonly backoff: Backoff
  private readonly stopController = new AbortController()
  private loop: Promise<void> | null = null
  private status: PeerStatus
  private lastEventId: string | null = null
  private hasCopy = false
  private followingSince: number | null = null

  constructor(private readonly opts: PeerSourceOptions) {
    this.log = opts.logger.child({ module: 'peer', peer: opts.peer.name })
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF)
    const now = opts.clock.now()
    this.status = {
      name: opts.peer.name,
      url: opts.peer.url,
      state: 'connecting',
      lastEventAt: null,
      unreachableSince: now,
      detail: null,
      synced: false,
      triedSince: now,
    }
  }

  start(): void {
    if (this.loop !== null || this.stopController.signal.aborted) return
    this.opts.sink.setPeerStatus(this.status)
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopController.abort()
    await this.loop
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  private stopped(): boolean {
    return this.stopController.signal.aborted
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal
    let failures = 0
    while (!this.stopped()) {
      let reason: unknown = null
      try {
        await this.attempt()
      } catch (err) {
        reason = err
      }
      if (this.stopped()) break
      const now = this.opts.clock.now()
      const wasFollowing = this.followingSince !== null
      const followedFor = wasFollowing ? now - (this.followingSince ?? now) : 0
      if (followedFor >= (this.opts.resetBackoffAfterMs ?? 30_000)) this.backoff.reset()
      this.followingSince = null
      const delay = this.backoff.next()
      const detail = describeError(reason)
      this.set({
        state: 'disconnected',
        detail,
        // Unheard since its last byte: what PEER_STALE_AFTER counts from.
        unreachableSince: this.status.unreachableSince ?? this.status.lastEventAt ?? now,
      })
      const fields = { url: this.opts.peer.url, reason: detail, retryInMs: delay }
      if (wasFollowing) this.log.warn(fields, 'peer stream lost; reconnecting')
      else if (failures === 0) this.log.warn(fields, 'peer not reachable; retrying')
      else this.log.debug(fields, 'peer still not reachable; retrying')
      failures = wasFollowing ? 0 : failures + 1
      await sleep(delay, signal)
    }
  }

  private async attempt(): Promise<void> {
    const attempt = new AbortController()
    const stop = () => {
      attempt.abort()
    }
    this.stopController.signal.addEventListener('abort', stop, { once: true })
    const parser = new SseParser()
    let pendingChars = 0
    try {
      this.set({ state: 'connecting' })
      await followPeerStream(
        {
          url: this.opts.peer.url,
          token: this.opts.token,
          ca: this.opts.ca,
          lastEventId: this.hasCopy ? this.lastEventId : null,
          silenceMs: this.opts.staleAfterMs,
          keepAliveMs: keepAliveFor(this.opts.staleAfterMs),
          signal: attempt.signal,
          onChunk: (text) => {
            // Keep-alives count as heard: silence, not quiet, is what loses a peer.
            this.heard()
            const events = parser.push(text)
            pendingChars = events.length > 0 ? 0 : pendingChars + text.length
            if (pendingChars > (this.opts.maxEventBytes ?? MAX_PEER_EVENT_BYTES)) {
              throw new PeerError(
                `an event larger than ${this.opts.maxEventBytes ?? MAX_PEER_EVENT_BYTES} bytes`
              )
            }
            for (const event of events) this.onEvent(event)
          },
        },
        () => {
          // With a copy to resume from, the peer continues from our Last-Event-ID (or sends its
          // whole document): either way what we hold is current until it says otherwise.
          this.set({ state: this.hasCopy ? 'following' : 'syncing' })
          if (this.hasCopy) this.following()
        }
      )
    } finally {
      this.stopController.signal.removeEventListener('abort', stop)
      attempt.abort()
    }
  }

  private onEvent(event: SseEvent): void {
    if (event.event !== 'health' && event.event !== 'delta') return
    let json: unknown
    try {
      json = JSON.parse(event.data)
    } catch {
      throw new PeerError(`invalid ${event.event} event: not JSON`)
    }
    if (event.event === 'health') {
      const doc = healthDocumentSchema.safeParse(json)
      if (!doc.success) throw new PeerError(`invalid document: ${issueText(doc.error.issues)}`)
      // Its instances carry its BRIDGE_NAME as host; messages about losing it use our name for
      // it. Two names for one host would make the document disagree with itself.
      const own = doc.data.bridge.name
      if (own !== this.opts.peer.name) {
        throw new PeerError(
          `the peer's BRIDGE_NAME is ${own}, but PEERS calls it ${this.opts.peer.name}: use one name for both`
        )
      }
      this.opts.sink.replacePeerDocument(this.opts.peer.name, doc.data)
      this.hasCopy = true
    } else {
      if (!this.hasCopy) throw new PeerError('a delta before any document')
      const delta = healthDeltaSchema.safeParse(json)
      if (!delta.success) throw new PeerError(`invalid delta: ${issueText(delta.error.issues)}`)
      this.opts.sink.applyPeerDelta(this.opts.peer.name, delta.data)
    }
    this.lastEventId = event.id === '' ? null : event.id
    if (this.status.state !== 'following') this.following()
  }

  private following(): void {
    const first = !this.status.synced
    this.followingSince = this.opts.clock.now()
    this.set({ state: 'following', unreachableSince: null, detail: null, synced: true })
    this.log.info(
      { url: this.opts.peer.url },
      first ? 'following peer' : 'peer stream re-established'
    )
  }

  private heard(): void {
    this.set({ lastEventAt: this.opts.clock.now() })
  }

  private set(patch: Partial<PeerStatus>): void {
    const next = { ...this.status, ...patch }
    const same = (Object.keys(next) as (keyof PeerStatus)[]).every(
      (k) => next[k] === this.status[k]
    )
    if (same) return
    this.status = next
    if (!this.stopController.signal.aborted) this.opts.sink.setPeerStatus(next)
  }

  get state(): PeerState {
    return this.status.state
  }
}

function issueText(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0]
  const text = first
    ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}`
    : 'invalid'
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}...` : text
}
