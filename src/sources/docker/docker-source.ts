/**
 * The Docker source: one compose project, followed live from the engine.
 *
 *   connecting ──▶ syncing ──▶ following
 *       ▲                          │ stream ended / error / overflow / failed call
 *       └──── disconnected ◀───────┘ (capped jittered backoff, then a full resync)
 *
 * Each attempt subscribes to `/events` first and buffers what arrives, then lists and inspects
 * the project, replaces the sink's containers, applies the buffered events and follows. A change
 * can therefore never fall between the list and the stream. Events are hints, not data: each
 * relevant one re-inspects its container (coalesced per container), so applying an event twice or
 * late is harmless.
 */
import type { DockerMetrics } from '../../metrics/metrics.js'
import type { Readable } from 'node:stream'

import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import type {
  ContainerObservation,
  ContainerState,
  DockerSourceStatus,
} from '../../model/observations.js'
import type { ContainerSink, HealthSource } from '../source.js'

import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
import { DockerApiError, type DockerApi, type EngineInfo } from './docker-api.js'
import { LineSplitter, LineTooLongError } from './event-stream.js'
import { eventFilters, eventKey, parseEventLine, type ContainerEvent } from './events.js'
import { mapContainer, type InspectInfo } from './map-container.js'

export interface DockerSourceOptions {
  api: DockerApi
  project: string
  sink: ContainerSink
  logger: Logger
  clock: Clock
  crashloopWindowMs: number
  /** After this long without a working stream, call `onGiveUp` (once). 0 = never. */
  giveUpAfterMs: number
  onGiveUp?: ((reason: string) => void) | undefined
  backoff?: BackoffOptions
  /** A stream that followed this long resets the backoff. */
  resetBackoffAfterMs?: number
  /** Cheap list that catches missed events and proves a silent stream's engine is alive. */
  reconcileEveryMs?: number
  /** Parallel inspects during a sync. */
  syncConcurrency?: number
  /** Events that may arrive while the first list runs before the attempt gives up. */
  maxBufferedEvents?: number
  /** Counts events and reconnects for `GET /metrics`. */
  metrics?: DockerMetrics | undefined
}

/** Per container, what outlives one inspect: restarts seen, and whether its labels were complained about. */
interface Known {
  restartCount: number | null
  restarts: number[]
  state: ContainerState | null
  /** Our clock when the sink last got this container; guards the reconciliation against races. */
  updatedAt: number
  labelsWarned: boolean
}

class StreamEndedError extends Error {
  override readonly name = 'StreamEndedError'
}

/** One connection: its abort signal, its inspects in flight, and how it fails (first reason wins). */
interface Attempt {
  readonly controller: AbortController
  readonly failed: Promise<never>
  fail(reason: unknown): void
  following: boolean
  buffered: ContainerEvent[]
  /** Containers with an inspect in flight... */
  inflight: Set<string>
  /** ...and those of them that had another event meanwhile. */
  again: Set<string>
  garbage: number
}

/** Remembers the last `size` keys; a `since` replay after a reconnect repeats events already handled. */
class RecentKeys {
  private readonly keys = new Set<string>()
  constructor(private readonly size: number) {}
  /** True when `key` is new (and remembers it). */
  add(key: string): boolean {
    if (this.keys.has(key)) return false
    this.keys.add(key)
    if (this.keys.size > this.size) {
      const oldest = this.keys.values().next()
      if (!oldest.done) this.keys.delete(oldest.value)
    }
    return true
  }
  has(key: string): boolean {
    return this.keys.has(key)
  }
}

/** How far back a reconnect asks the engine to replay (its ring holds 256 events anyway). */
const MAX_REPLAY_MS = 5 * 60_000

export class DockerSource implements HealthSource {
  readonly name = 'docker'
  private readonly api: DockerApi
  private readonly sink: ContainerSink
  private readonly log: Logger
  private readonly clock: Clock
  private readonly opts: Required<
    Pick<
      DockerSourceOptions,
      'resetBackoffAfterMs' | 'reconcileEveryMs' | 'syncConcurrency' | 'maxBufferedEvents'
    >
  >
  private readonly backoff: Backoff
  private status: DockerSourceStatus
  private readonly known = new Map<string, Known>()
  private readonly destroyed = new RecentKeys(4096)
  private readonly seenEvents = new RecentKeys(4096)
  private readonly stopController = new AbortController()
  private loop: Promise<void> | null = null
  private followingSince: number | null = null
  private everFollowed = false
  private giveUpTimer: NodeJS.Timeout | undefined
  private gaveUp = false
  private versionRetried = false
  /** Failed attempts since the stream last reached `following`. */
  private failures = 0

  constructor(private readonly deps: DockerSourceOptions) {
    this.api = deps.api
    this.sink = deps.sink
    this.log = deps.logger.child({ module: 'docker-source' })
    this.clock = deps.clock
    this.backoff = new Backoff(deps.backoff ?? DEFAULT_BACKOFF)
    this.opts = {
      resetBackoffAfterMs: deps.resetBackoffAfterMs ?? 30_000,
      reconcileEveryMs: deps.reconcileEveryMs ?? 60_000,
      syncConcurrency: deps.syncConcurrency ?? 8,
      maxBufferedEvents: deps.maxBufferedEvents ?? 10_000,
    }
    this.status = {
      state: 'connecting',
      project: deps.project,
      lastEventAt: null,
      unreachableSince: null,
      synced: false,
      detail: null,
    }
  }

  start(): void {
    if (this.loop !== null || this.stopController.signal.aborted) return
    this.sink.setDockerStatus(this.status)
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopController.abort()
    clearTimeout(this.giveUpTimer)
    await this.loop
  }

  isReady(): boolean {
    return this.status.state === 'following'
  }

  /** The source's own state, as last pushed to the sink. */
  get currentStatus(): DockerSourceStatus {
    return this.status
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  private stopped(): boolean {
    return this.stopController.signal.aborted
  }

  private async run(): Promise<void> {
    while (!this.stopped()) {
      let error: unknown
      try {
        await this.attempt()
      } catch (err) {
        error = err
      }
      if (this.stopped()) break
      const delay = this.disconnected(error)
      await sleep(delay, this.stopController.signal)
    }
  }

  /** Bookkeeping after a lost or failed connection; returns how long to wait before the next one. */
  private disconnected(error: unknown): number {
    const now = this.clock.now()
    const reason = describe(error)
    const wasFollowing = this.followingSince !== null
    if (wasFollowing && now - (this.followingSince ?? now) >= this.opts.resetBackoffAfterMs) {
      this.backoff.reset()
    }
    this.followingSince = null
    // An engine that refused our pinned version (upgraded under us) gets one immediate renegotiation.
    const renegotiate =
      error instanceof DockerApiError && error.kind === 'version' && !this.versionRetried
    if (renegotiate) this.versionRetried = true
    const firstFailure = this.failures++ === 0
    const delay = renegotiate ? 0 : this.backoff.next()
    const unreachableSince = this.status.unreachableSince ?? now
    this.setStatus({ state: 'disconnected', unreachableSince, detail: reason })
    this.armGiveUp(unreachableSince)
    const fields = { reason, retryInMs: delay }
    if (wasFollowing) this.log.warn(fields, 'docker events stream lost; reconnecting')
    else if (firstFailure) this.log.warn(fields, 'docker engine not reachable; retrying')
    else this.log.info(fields, 'docker engine still not reachable; retrying')
    return delay
  }

  private armGiveUp(unreachableSince: number): void {
    const after = this.deps.giveUpAfterMs
    if (after <= 0 || this.gaveUp || this.giveUpTimer !== undefined) return
    const fire = () => {
      this.giveUpTimer = undefined
      if (this.stopped() || this.status.unreachableSince === null) return
      this.gaveUp = true
      const reason = `docker engine unreachable for ${Math.round(after / 1000)}s (${this.status.detail ?? 'unknown'})`
      if (this.deps.onGiveUp) this.deps.onGiveUp(reason)
      else this.log.error({ reason }, 'giving up on the docker engine')
    }
    this.giveUpTimer = setTimeout(fire, Math.max(0, unreachableSince + after - this.clock.now()))
  }

  private async attempt(): Promise<void> {
    const controller = new AbortController()
    let rejectFailed: (reason: unknown) => void = () => undefined
    const failed = new Promise<never>((_, reject) => {
      rejectFailed = reject
    })
    // Always observed by a race below; this guard only keeps Node quiet if it loses every race.
    failed.catch(() => undefined)
    let over = false
    const attempt: Attempt = {
      controller,
      failed,
      fail: (reason) => {
        if (over) return
        over = true
        rejectFailed(reason)
        controller.abort(reason)
      },
      following: false,
      buffered: [],
      inflight: new Set(),
      again: new Set(),
      garbage: 0,
    }
    const stop = () => {
      attempt.fail(new Error('stopped'))
    }
    this.stopController.signal.addEventListener('abort', stop, { once: true })
    let reconcileTimer: NodeJS.Timeout | undefined
    try {
      this.setStatus({ state: 'connecting' })
      const engine = await race(this.api.negotiate(controller.signal), attempt)
      this.setStatus({ state: 'syncing' })
      const opening = this.api.events(
        { since: this.sinceSeconds(), filters: eventFilters(this.deps.project) },
        controller.signal
      )
      // A stream that opens after the attempt already failed must not be left open.
      opening.then(
        (s) => {
          if (!controller.signal.aborted) return
          s.on('error', () => undefined)
          s.destroy()
        },
        () => undefined
      )
      const stream = await race(opening, attempt)
      this.consume(stream, attempt)
      const count = await race(this.sync(attempt), attempt)
      this.follow(attempt, engine, count)
      const reconcile = () => {
        this.reconcile(attempt).then(
          () => {
            if (controller.signal.aborted) return
            reconcileTimer = setTimeout(reconcile, this.opts.reconcileEveryMs)
          },
          (err: unknown) => {
            attempt.fail(err)
          }
        )
      }
      reconcileTimer = setTimeout(reconcile, this.opts.reconcileEveryMs)
      await failed
    } finally {
      clearTimeout(reconcileTimer)
      this.stopController.signal.removeEventListener('abort', stop)
      attempt.fail(new Error('attempt over'))
    }
  }

  /**
   * `since` covers the gap between the engine flushing the response headers and subscribing us
   * (it does both in that order). After a reconnect it also replays what the ring still holds,
   * which is a bonus only: the full list that follows is what makes the state right.
   */
  private sinceSeconds(): number {
    const now = this.clock.now()
    const last = this.status.lastEventAt
    const from =
      last === null ? now - 1000 : Math.max(now - MAX_REPLAY_MS, Math.min(last, now - 1000))
    return Math.floor(from / 1000)
  }

  /** Reads the stream promptly (the engine drops a subscriber that lags 100 ms) and never throws. */
  private consume(stream: Readable, attempt: Attempt): void {
    const splitter = new LineSplitter()
    const end = (why: string) => {
      const mid = splitter.buffered > 0 ? ' in the middle of an event' : ''
      attempt.fail(new StreamEndedError(`${why}${mid}`))
    }
    attempt.controller.signal.addEventListener(
      'abort',
      () => {
        stream.destroy()
      },
      { once: true }
    )
    stream.on('data', (chunk: Buffer | string) => {
      try {
        const lines = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
        for (const line of lines) this.onLine(line, attempt)
      } catch (err) {
        attempt.fail(err)
      }
    })
    stream.on('error', (err) => {
      end(`the events stream failed (${describe(err)})`)
    })
    stream.on('end', () => {
      end('the engine ended the events stream')
    })
    stream.on('close', () => {
      end('the events stream closed')
    })
  }

  private onLine(line: string, attempt: Attempt): void {
    const parsed = parseEventLine(line)
    if (!parsed.ok) {
      if (!parsed.ignored) {
        attempt.garbage++
        // Warn once per connection; the count goes into the disconnect reason's neighbour logs.
        const level = attempt.garbage === 1 ? 'warn' : 'debug'
        this.log[level](
          { why: parsed.why, count: attempt.garbage },
          'ignoring an unreadable docker event'
        )
      }
      return
    }
    if (attempt.following) this.onEvent(parsed.event, attempt)
    else if (attempt.buffered.push(parsed.event) > this.opts.maxBufferedEvents) {
      attempt.fail(
        new Error(`more than ${this.opts.maxBufferedEvents} events arrived during the sync`)
      )
    }
  }

  private onEvent(event: ContainerEvent, attempt: Attempt): void {
    if (!this.seenEvents.add(eventKey(event))) return
    this.deps.metrics?.eventReceived(event.action)
    if (this.status.lastEventAt === null || event.at > this.status.lastEventAt) {
      this.setStatus({ lastEventAt: event.at })
    }
    this.log.debug({ action: event.action, container: event.id.slice(0, 12) }, 'docker event')
    switch (event.action) {
      case 'destroy':
        this.destroyed.add(event.id)
        this.forget(event.id)
        return
      case 'kill':
        // A signal was sent; `die` follows if it ended the process, and that one re-inspects.
        return
      case 'restart': {
        // Explicit restarts reset RestartCount to 0, so the event is the only record of them.
        const k = this.known.get(event.id)
        if (k) k.restarts.push(event.at)
        else this.known.set(event.id, { ...blankKnown(this.clock.now()), restarts: [event.at] })
        break
      }
      default:
        break
    }
    this.inspectSoon(event.id, attempt)
  }

  /**
   * At most one inspect per container in flight; events arriving meanwhile ask for one more, so a
   * burst (die, stop, start, restart) costs two inspects and the last one always sees the latest.
   * Serialising per container is also what keeps a late answer from overwriting a newer one.
   */
  private inspectSoon(id: string, attempt: Attempt): void {
    if (attempt.inflight.has(id)) {
      attempt.again.add(id)
      return
    }
    attempt.inflight.add(id)
    const run = async () => {
      try {
        do {
          attempt.again.delete(id)
          const info = await this.api.inspectContainer(id, attempt.controller.signal)
          if (attempt.controller.signal.aborted) return
          this.apply(id, info)
        } while (attempt.again.has(id) && !this.destroyed.has(id))
      } finally {
        // In the same turn as the last check above: an event arriving in between (stream data is
        // delivered on nextTick, between promise jobs) would otherwise be marked and never served.
        attempt.inflight.delete(id)
      }
    }
    run().catch((err: unknown) => {
      attempt.fail(err)
    })
  }

  private apply(id: string, info: InspectInfo | null): void {
    if (this.destroyed.has(id)) return
    if (info === null) {
      // Gone between the event and the inspect; its `destroy` event will say so too.
      this.forget(id)
      return
    }
    this.sink.upsertContainer(this.observe(info))
  }

  private forget(id: string): void {
    this.known.delete(id)
    this.sink.removeContainer(id)
  }

  /** Maps an inspect result, carrying what we remember about the container's restarts. */
  private observe(info: InspectInfo): ContainerObservation {
    const now = this.clock.now()
    const prior = this.known.get(info.Id)
    const { observation, labelProblems } = mapContainer(info, prior, {
      now,
      crashloopWindowMs: this.deps.crashloopWindowMs,
    })
    const warned = prior?.labelsWarned ?? false
    if (labelProblems.length > 0 && !warned) {
      this.log.warn(
        { container: observation.name, problems: labelProblems },
        'ignoring invalid health-bridge labels'
      )
    }
    this.known.set(info.Id, {
      restartCount: observation.restartCount,
      restarts: [...observation.restarts],
      state: observation.state,
      updatedAt: now,
      labelsWarned: warned || labelProblems.length > 0,
    })
    return observation
  }

  /** Full list + inspect; replaces everything the sink knew. Returns the number of containers. */
  private async sync(attempt: Attempt): Promise<number> {
    const signal = attempt.controller.signal
    const summaries = await this.api.listContainers(this.deps.project, signal)
    const infos = await mapLimit(summaries, this.opts.syncConcurrency, (s) =>
      this.api.inspectContainer(s.id, signal)
    )
    signal.throwIfAborted()
    const present = infos.filter((i): i is InspectInfo => i !== null)
    const ids = new Set(present.map((i) => i.Id))
    for (const id of this.known.keys()) if (!ids.has(id)) this.known.delete(id)
    const observations = present.map((info) => this.observe(info))
    this.sink.replaceContainers(observations)
    return observations.length
  }

  private follow(attempt: Attempt, engine: EngineInfo, containers: number): void {
    const now = this.clock.now()
    const downSince = this.status.unreachableSince
    attempt.following = true
    for (const event of attempt.buffered) this.onEvent(event, attempt)
    attempt.buffered = []
    clearTimeout(this.giveUpTimer)
    this.giveUpTimer = undefined
    this.versionRetried = false
    this.failures = 0
    this.followingSince = now
    this.setStatus({ state: 'following', synced: true, unreachableSince: null, detail: null })
    const fields = {
      project: this.deps.project,
      containers,
      engine: engine.version,
      api: engine.apiVersion,
    }
    if (!this.everFollowed) this.log.info(fields, 'following docker events')
    else {
      this.deps.metrics?.streamReconnected()
      this.log.info(
        { ...fields, downForMs: downSince === null ? 0 : now - downSince },
        'docker events stream re-established'
      )
    }
    this.everFollowed = true
  }

  /**
   * The once-a-minute safety net: a cheap list (no inspects unless something differs). Catches
   * events the engine dropped, and a failure here is how a silently dead stream is noticed.
   */
  private async reconcile(attempt: Attempt): Promise<void> {
    const listedAt = this.clock.now()
    const summaries = await this.api.listContainers(this.deps.project, attempt.controller.signal)
    if (attempt.controller.signal.aborted) return
    const listed = new Set<string>()
    for (const s of summaries) {
      listed.add(s.id)
      const k = this.known.get(s.id)
      if (k?.state !== s.state) this.inspectSoon(s.id, attempt)
    }
    for (const [id, k] of this.known) {
      // Updated after the list was taken: newer than the list, so the list cannot judge it.
      if (!listed.has(id) && k.updatedAt < listedAt && !attempt.inflight.has(id)) {
        this.log.debug({ container: id.slice(0, 12) }, 'reconciliation: container is gone')
        this.forget(id)
      }
    }
  }

  private setStatus(patch: Partial<DockerSourceStatus>): void {
    const next = { ...this.status, ...patch }
    const same = (Object.keys(next) as (keyof DockerSourceStatus)[]).every(
      (k) => next[k] === this.status[k]
    )
    if (same) return
    const from = this.status.state
    this.status = next
    if (next.state !== from) {
      this.log.debug({ from, to: next.state, detail: next.detail }, 'docker source state')
    }
    if (!this.stopped()) this.sink.setDockerStatus(next)
  }
}

function blankKnown(now: number): Known {
  return { restartCount: null, restarts: [], state: null, updatedAt: now, labelsWarned: false }
}

/** Resolves with `promise`, or rejects as soon as the attempt fails (stream lost meanwhile). */
function race<T>(promise: Promise<T>, attempt: Attempt): Promise<T> {
  // The losing side must not become an unhandled rejection.
  promise.catch(() => undefined)
  return Promise.race([promise, attempt.failed])
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** One line for logs and the status `detail`; never a container's data. */
export function describe(err: unknown): string {
  if (
    err instanceof DockerApiError ||
    err instanceof StreamEndedError ||
    err instanceof LineTooLongError
  ) {
    return err.message
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message
  }
  return String(err)
}
