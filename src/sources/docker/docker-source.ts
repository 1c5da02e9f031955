/**
 * The Docker source: one compose project, followed live from the engine. This module is the
 * connection state machine; each part it drives has a module of its own:
 *
 *   connecting ──▶ syncing ──▶ following
 *       ▲                          │ stream ended / error / overflow / failed call / stalled
 *       └──── disconnected ◀───────┘ (capped jittered backoff, then a full resync)
 *
 * - `event-follower.ts`: the events stream of one connection (subscription, framing, parsing,
 *   buffering during the sync, dedupe);
 * - `inspect-queue.ts`: per-container inspect coalescing;
 * - `inventory.ts`: what is known about the containers (restart memory, reconciliation);
 * - `reconnect.ts`: backoff, renegotiation and the give-up timer;
 * - `stall-watch.ts`: whether a difference the reconciliation found proves the stream stalled;
 * - `source-status.ts`: the state shown as `bridge.sources.docker`.
 *
 * Each connection subscribes to `/events` first and buffers what arrives, then lists and inspects
 * the project, replaces the sink's containers, applies the buffered events and follows. A change
 * can therefore never fall between the list and the stream. Events are hints, not data: each
 * relevant one re-inspects its container, so applying an event twice or late is harmless.
 */
import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import type { DockerSourceStatus } from '../../model/observations.js'
import type { ContainerSink, DockerSourceEvents, HealthSource } from '../source.js'

import { Attempt, mapLimit, repeat, sleep } from '../async.js'
import { DEFAULT_BACKOFF, type BackoffOptions } from '../backoff.js'
import type { DockerApi, EngineInfo } from './docker-api.js'
import { describeError } from '../errors.js'
import { StreamEndedError } from './errors.js'
import { EventFollower, subscribe } from './event-follower.js'
import type { ContainerEvent } from './events.js'
import { InspectQueue } from './inspect-queue.js'
import { ContainerInventory } from './inventory.js'
import { RecentKeys } from './recent-keys.js'
import { GiveUpTimer, ReconnectPolicy, RESET_BACKOFF_AFTER_MS } from './reconnect.js'
import { SourceStatus } from './source-status.js'
import { STALL_GRACE_MS, StallWatch } from './stall-watch.js'

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
  /** A stream that followed this long resets the backoff (default `RESET_BACKOFF_AFTER_MS`). */
  resetBackoffAfterMs?: number
  /**
   * Cheap list that catches missed events, proves a silent stream's engine is alive, and shows a
   * stream that stalled without closing (DOCKER_RECONCILE_EVERY).
   */
  reconcileEveryMs?: number
  /** How long an event may lag the list's view of its change before the stream counts as stalled. */
  stallGraceMs?: number
  /** Parallel inspects during a sync. */
  syncConcurrency?: number
  /** Events that may arrive while the first list runs before the attempt gives up. */
  maxBufferedEvents?: number
  /** Told about events and reconnects (the metrics count them). */
  notify?: DockerSourceEvents | undefined
}

export class DockerSource implements HealthSource {
  private readonly api: DockerApi
  private readonly project: string
  private readonly log: Logger
  private readonly clock: Clock
  private readonly notify: DockerSourceEvents | undefined
  private readonly onGiveUp: ((reason: string) => void) | undefined
  private readonly giveUpAfterMs: number
  private readonly reconcileEveryMs: number
  private readonly stallGraceMs: number
  private readonly syncConcurrency: number
  private readonly maxBufferedEvents: number
  private readonly status: SourceStatus
  private readonly inventory: ContainerInventory
  private readonly reconnect: ReconnectPolicy
  private readonly giveUp: GiveUpTimer
  private readonly seenEvents = new RecentKeys(4096)
  private readonly stopController = new AbortController()
  private loop: Promise<void> | null = null
  private everFollowed = false
  private gaveUp = false

  constructor(options: DockerSourceOptions) {
    this.api = options.api
    this.project = options.project
    this.log = options.logger.child({ module: 'docker-source' })
    this.clock = options.clock
    this.notify = options.notify
    this.onGiveUp = options.onGiveUp
    this.giveUpAfterMs = options.giveUpAfterMs
    this.reconcileEveryMs = options.reconcileEveryMs ?? 60_000
    this.stallGraceMs = options.stallGraceMs ?? STALL_GRACE_MS
    this.syncConcurrency = options.syncConcurrency ?? 8
    this.maxBufferedEvents = options.maxBufferedEvents ?? 10_000
    const initial: DockerSourceStatus = {
      state: 'connecting',
      project: options.project,
      lastEventAt: null,
      unreachableSince: null,
      synced: false,
      detail: null,
    }
    this.status = new SourceStatus(initial, options.sink, this.log, () => this.stopped())
    this.inventory = new ContainerInventory({
      sink: options.sink,
      log: this.log,
      clock: options.clock,
      crashloopWindowMs: options.crashloopWindowMs,
    })
    this.reconnect = new ReconnectPolicy({
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      resetBackoffAfterMs: options.resetBackoffAfterMs ?? RESET_BACKOFF_AFTER_MS,
    })
    this.giveUp = new GiveUpTimer(options.giveUpAfterMs, options.clock, () => this.giveUpNow())
  }

  start(): void {
    if (this.loop !== null || this.stopped()) return
    this.status.publish()
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopController.abort()
    this.giveUp.disarm()
    await this.loop
  }

  /** The source's own state, as last pushed to the sink. */
  get currentStatus(): DockerSourceStatus {
    return this.status.current
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  private stopped(): boolean {
    return this.stopController.signal.aborted
  }

  private async run(): Promise<void> {
    while (!this.stopped()) {
      let error: unknown
      try {
        await this.connect()
      } catch (err) {
        error = err
      }
      if (this.stopped()) break
      await sleep(this.disconnected(error), this.stopController.signal)
    }
  }

  /** One connection: connecting, syncing, following, until something fails it. */
  private async connect(): Promise<void> {
    const attempt = new Attempt()
    const stop = () => {
      attempt.fail(new Error('stopped'))
    }
    this.stopController.signal.addEventListener('abort', stop, { once: true })
    try {
      this.status.set({ state: 'connecting' })
      const engine = await attempt.unlessFailed(this.api.negotiate(attempt.signal))
      this.status.set({ state: 'syncing' })
      const stream = await attempt.unlessFailed(
        subscribe(this.api, this.project, this.status.current.lastEventAt, this.clock, attempt)
      )
      const inspects = new InspectQueue(this.api, attempt, this.inventory)
      const stalls = new StallWatch(this.stallGraceMs)
      const events = new EventFollower(stream, attempt, {
        log: this.log,
        maxBufferedEvents: this.maxBufferedEvents,
        seen: this.seenEvents,
        onEvent: (event) => {
          stalls.event(event.id, this.clock.now())
          this.onEvent(event, inspects)
        },
      })
      const containers = await attempt.unlessFailed(this.sync(attempt))
      events.follow()
      this.followed(engine, containers)
      const reconcile = () => this.reconcile(attempt, inspects, stalls)
      repeat(reconcile, this.reconcileEveryMs, attempt.signal, (err) => {
        attempt.fail(err)
      })
      await attempt.failed
    } finally {
      this.stopController.signal.removeEventListener('abort', stop)
      // Closes the stream and the reconciliation timer, and discards inspects still in flight.
      attempt.fail(new Error('attempt over'))
    }
  }

  /** Full list + inspect; replaces everything the sink knew. Returns the number of containers. */
  private async sync(attempt: Attempt): Promise<number> {
    const { signal } = attempt
    const summaries = await this.api.listContainers(this.project, signal)
    const infos = await mapLimit(summaries, this.syncConcurrency, (s) =>
      this.api.inspectContainer(s.id, signal)
    )
    signal.throwIfAborted()
    return this.inventory.replaceAll(infos)
  }

  private onEvent(event: ContainerEvent, inspects: InspectQueue): void {
    this.notify?.eventReceived(event.action)
    const last = this.status.current.lastEventAt
    if (last === null || event.at > last) this.status.set({ lastEventAt: event.at })
    this.log.debug({ action: event.action, container: event.id.slice(0, 12) }, 'docker event')
    switch (event.action) {
      case 'destroy':
        this.inventory.destroy(event.id)
        return
      case 'kill':
        // A signal was sent; `die` follows if it ended the process, and that one re-inspects.
        return
      case 'restart':
        this.inventory.recordRestart(event.id, event.at)
        break
      default:
        break
    }
    this.inventory.applyEvent(event)
    inspects.request(event.id)
  }

  /**
   * The once-a-minute safety net: a cheap list (no inspects unless something differs). Catches
   * events the engine dropped; a failure here is how a dead engine behind a silent stream is
   * noticed, and a difference no event explains in time is how a stalled stream is.
   */
  private async reconcile(
    attempt: Attempt,
    inspects: InspectQueue,
    stalls: StallWatch
  ): Promise<void> {
    const listedAt = this.clock.now()
    const summaries = await this.api.listContainers(this.project, attempt.signal)
    if (attempt.isOver()) return
    const inFlight = (id: string) => inspects.isInFlight(id)
    const { inspect, unreported } = this.inventory.reconcile(summaries, listedAt, inFlight)
    for (const id of inspect) inspects.request(id)
    const checkAt = stalls.differed(unreported, listedAt)
    if (checkAt === null) return
    void sleep(checkAt - this.clock.now(), attempt.signal).then(() => {
      if (attempt.isOver()) return
      const missed = stalls.unexplained(this.clock.now())
      if (missed.length === 0) return
      this.notify?.streamStalled()
      const ids = missed.map((id) => id.slice(0, 12)).join(', ')
      // One line: the reason goes into the usual `docker events stream lost; reconnecting`.
      attempt.fail(
        new StreamEndedError(
          `the events stream stalled: the engine's list showed changes to ${ids} that no event reported within ${Math.round(this.stallGraceMs / 1000)}s`
        )
      )
    })
  }

  private followed(engine: EngineInfo, containers: number): void {
    const now = this.clock.now()
    const downSince = this.status.current.unreachableSince
    this.giveUp.disarm()
    this.reconnect.followed(now)
    this.status.set({ state: 'following', synced: true, unreachableSince: null, detail: null })
    const fields = {
      project: this.project,
      containers,
      engine: engine.version,
      api: engine.apiVersion,
    }
    if (!this.everFollowed) this.log.info(fields, 'following docker events')
    else {
      this.notify?.streamReconnected()
      this.log.info(
        { ...fields, downForMs: downSince === null ? 0 : now - downSince },
        'docker events stream re-established'
      )
    }
    this.everFollowed = true
  }

  /** Bookkeeping after a lost or failed connection; returns how long to wait before the next one. */
  private disconnected(error: unknown): number {
    const now = this.clock.now()
    const reason = describeError(error)
    const loss = this.reconnect.lost(error, now)
    const unreachableSince = this.status.current.unreachableSince ?? now
    this.status.set({ state: 'disconnected', unreachableSince, detail: reason })
    this.giveUp.arm(unreachableSince)
    // The engine deleted the socket file we were given a mount of: no retry can reach its next
    // one, so waiting out DOCKER_GIVE_UP_AFTER would only keep everything unknown for longer.
    if (this.giveUpAfterMs > 0 && this.api.socketRemoved()) {
      this.giveUp.disarm()
      this.giveUpNow(
        `the Docker socket this bridge mounted (${this.api.address}) was removed: dockerd restarted or was upgraded; only a restart of this container mounts the new one`
      )
    }
    const fields = { reason, retryInMs: loss.delayMs }
    if (loss.wasFollowing) this.log.warn(fields, 'docker events stream lost; reconnecting')
    else if (loss.firstFailure) this.log.warn(fields, 'docker engine not reachable; retrying')
    else this.log.info(fields, 'docker engine still not reachable; retrying')
    return loss.delayMs
  }

  /** The give-up timer fired (or the socket is gone): true when the engine is still unreachable and we gave up. */
  private giveUpNow(why?: string): boolean {
    const { unreachableSince, detail } = this.status.current
    if (this.stopped() || this.gaveUp || unreachableSince === null) return false
    this.gaveUp = true
    const reason =
      why ??
      `docker engine unreachable for ${Math.round(this.giveUpAfterMs / 1000)}s (${detail ?? 'unknown'})`
    if (this.onGiveUp) this.onGiveUp(reason)
    else this.log.error({ reason }, 'giving up on the docker engine')
    return true
  }
}
