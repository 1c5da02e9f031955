/**
 * The bridge's state: observations in, the judged document out, re-judged one service at a time.
 *
 * A write marks the services it touched dirty (`observations.ts` says which); a status change
 * re-judges them in this event-loop turn, bookkeeping (lastSeenAt, details) within a second
 * (`scheduler.ts`), and time at each service's own next deadline (`deadlines.ts`); a read past a
 * deadline re-judges the services that are due before it answers. Only re-judged services are
 * re-serialized (`src/render/`); impact and the overall status are recomputed from the services'
 * results (`model/judge-stack.ts`). Listeners hear of every change a display would draw, with
 * the services that changed, so the stream can send deltas.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { dockerStaleness } from '../model/judge-container.js'
import { judgeHeartbeat } from '../model/judge-heartbeat.js'
import { judgeReport } from '../model/judge-report.js'
import { judgeService } from '../model/judge-service.js'
import { impactOf, overallStatus } from '../model/judge-stack.js'
import {
  DOCKER_DISABLED,
  type ContainerObservation,
  type DockerSourceStatus,
  type HeartbeatObservation,
  type PeerStatus,
  type ReportedStatus,
} from '../model/observations.js'
import type { ServiceContext } from '../model/service-context.js'
import { serviceSettings } from '../model/service-settings.js'
import type { ModelConfig } from '../model/settings.js'
import { httpStatusOf, type Status } from '../model/status.js'
import { earliest } from '../model/verdict.js'
import { assembleDelta, assembleDocument, encodeHeader, type Bytes } from '../render/document.js'
import { documentEtag } from '../render/etag.js'
import { dockerSourceView, drawnSources, peerSourceView } from '../render/views.js'
import type {
  BridgeView,
  HealthDelta,
  HealthDocument,
  InstanceView,
  Readiness,
  ServiceView,
  Transition,
} from '../wire/health-document.js'

import { DeadlineQueue } from './deadlines.js'
import { DEFAULT_HISTORY, History, type HistoryOptions } from './history.js'
import { ObservationIndex } from './observations.js'
import { PeerCopies } from './peers.js'
import { FlushScheduler } from './scheduler.js'
import { ServiceEntries } from './service-entries.js'
import { recordTransitions } from './transitions.js'

/** How often heartbeat bookkeeping that changes no status may reach the document. */
export const BOOKKEEPING_INTERVAL_MS = 1000
/** Deadline keys of stack-wide instants (service names cannot start with `#`). */
const DOCKER_STALE_KEY = '#docker-stale'
const PEER_LOST_KEY = '#peer-lost:'

export interface StoreConfig extends ModelConfig {
  maxInstances: number
  /** PEERS: the bridges this one (a hub) follows; empty or absent on a plain bridge. */
  peers?: readonly { name: string; url: string }[]
  /** PEER_STALE_AFTER: a peer unheard this long is lost, its instances unknown. */
  peerStaleAfterMs?: number
}

export interface HealthStoreDeps {
  config: StoreConfig
  clock: Clock
  logger: Logger
  version: string
  history?: HistoryOptions
}

/** A judged document, ready to serve; `doc` and `body` are built on first use. */
export interface Rendered {
  readonly doc: HealthDocument
  readonly body: Bytes
  readonly etag: string
  readonly httpStatus: 200 | 503
}

/** What changed, for listeners: the services a display draws differently, and those gone. */
export interface Change {
  readonly rendered: Rendered
  readonly services: readonly ServiceView[]
  readonly removed: readonly string[]
  /** The `event: delta` payload (JSON), built on first use. */
  readonly delta: Bytes
}

export interface HeartbeatInput {
  service: string
  instance: string
  reported: ReportedStatus
  error: string | null
  details: Record<string, unknown> | null
  /** Sender's timestamp (epoch ms), if it sent one: only used for clock skew. */
  sentAt: number | null
  remoteAddress: string | null
}

export type RecordResult =
  | { ok: true; status: Status; receivedAt: number; timeoutMs: number; created: boolean }
  | { ok: false; reason: 'too_many_instances'; limit: number }

export type Listener = (change: Change) => void

type Urgency = 'now' | 'lazy'

function lazily<T>(build: () => T): () => T {
  let value: T | undefined
  let built = false
  return () => {
    if (!built) {
      value = build()
      built = true
    }
    return value as T
  }
}

/**
 * Implements the sources' ports (`ContainerSink`, `PeerSink` in src/sources/source.ts) by shape:
 * the core does not import what its adapters own; `bridge.ts` hands the store to each source.
 */
export class HealthStore {
  private readonly index = new ObservationIndex()
  private readonly peers: PeerCopies
  /** Per peer, since when it counted as lost at the last flush (null: not lost). */
  private readonly peersLost = new Map<string, number | null>()
  private readonly entries = new ServiceEntries()
  private readonly deadlines = new DeadlineQueue()
  /** Services to re-judge this turn, and those whose bookkeeping may wait (never both). */
  private readonly urgent = new Set<string>()
  private readonly lazy = new Set<string>()
  private readonly scheduler: FlushScheduler
  private readonly history: History
  private readonly listeners = new Set<Listener>()
  private readonly log: Logger
  private readonly startedAt: number
  private docker: DockerSourceStatus = DOCKER_DISABLED
  private contextKey: string | null = null
  private headerDirty: Urgency | null = 'now'
  private rendered: Rendered | null = null
  /** The overall status and sources' states of the last document: with draw hashes, its tag. */
  private drawnKey = ''

  constructor(private readonly deps: HealthStoreDeps) {
    this.startedAt = deps.clock.now()
    this.history = new History(deps.history ?? DEFAULT_HISTORY)
    this.log = deps.logger.child({ module: 'store' })
    this.peers = new PeerCopies(
      deps.config.bridgeName,
      (deps.config.peers ?? []).map((p): PeerStatus => ({
        name: p.name,
        url: p.url,
        state: 'connecting',
        lastEventAt: null,
        unreachableSince: this.startedAt,
        detail: null,
        synced: false,
        triedSince: this.startedAt,
      })),
      deps.config.peerStaleAfterMs ?? 10_000
    )
    this.scheduler = new FlushScheduler(
      {
        flushUrgent: () => this.flush(false),
        flushAll: () => this.flush(true),
        nextDeadline: () => this.deadlines.peek(),
      },
      deps.clock,
      BOOKKEEPING_INTERVAL_MS
    )
    // Services the configuration declares are reported even before anything is observed.
    for (const name of Object.keys(deps.config.services)) this.urgent.add(name)
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The current document; re-judged first if something changed or a deadline has passed. */
  current(): Rendered {
    const due = this.deadlines.peek()
    if (
      this.rendered === null ||
      this.urgent.size > 0 ||
      this.headerDirty === 'now' ||
      (due !== null && this.deps.clock.now() >= due)
    ) {
      return this.flush(false)
    }
    return this.rendered
  }

  /** One service of the current document: its object, its bytes and its own weak ETag. */
  service(name: string): { view: ServiceView; body: Bytes; etag: string } | undefined {
    this.current()
    const e = this.entries.get(name)
    return e && { view: e.view, body: e.fragment, etag: e.etag }
  }

  /** Finds an instance by its id or anything it answers to: container id (or 12+ prefix), name, hostname. */
  instance(service: string, query: string): InstanceView | undefined {
    this.current()
    const e = this.entries.get(service)
    if (!e) return undefined
    let id = e.aliases.get(query)
    if (id === undefined && query.length >= 12) {
      id = e.view.instances.find((i) => i.docker?.containerId.startsWith(query))?.id
    }
    return e.view.instances.find((i) => i.id === (id ?? query))
  }

  dockerStatus(): DockerSourceStatus {
    return this.docker
  }

  heartbeatInstances(): number {
    return this.index.heartbeatInstances
  }

  transitions(service?: string, limit?: number): Transition[] {
    return this.history.list(service, limit)
  }

  containerList(): ContainerObservation[] {
    return [...this.index.containers()]
  }

  /** Called for every change a display would draw (the ETag changed). Returns an unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  recordHeartbeat(input: HeartbeatInput): RecordResult {
    const now = this.deps.clock.now()
    const old = this.index.heartbeat(input.service, input.instance)
    const limit = this.deps.config.maxInstances
    if (!old && this.index.heartbeatInstances >= limit) {
      return { ok: false, reason: 'too_many_instances', limit }
    }
    const hb: HeartbeatObservation = {
      service: input.service,
      instance: input.instance,
      receivedAt: now,
      reported: input.reported,
      error: input.error,
      details: input.details,
      clockSkewSeconds: input.sentAt === null ? null : Math.round(input.sentAt - now) / 1000,
      remoteAddress: input.remoteAddress,
    }
    const touched = new Set<string>()
    this.index.setHeartbeat(hb, touched)
    const ctx = this.context(now)
    const containers = [...(this.index.service(input.service)?.containers.values() ?? [])]
    const settings = serviceSettings(input.service, containers, ctx)
    const timeoutMs = settings.heartbeatTimeoutMs
    if (!old) {
      this.log.info({ service: hb.service, instance: hb.instance }, 'heartbeat instance registered')
      this.mark(touched, 'now')
    } else {
      const before = judgeHeartbeat(old, timeoutMs, now)
      const after = judgeHeartbeat(hb, timeoutMs, now)
      // Same status and message: only bookkeeping (lastSeenAt, details) moved; no need to hurry.
      const same =
        before.status === after.status &&
        before.message === after.message &&
        old.reported === hb.reported
      this.mark(touched, same ? 'lazy' : 'now')
    }
    // By the rules the document uses, so the 202 agrees with GET /health about this instance.
    const status = judgeReport(hb, containers, settings, ctx, now).status
    return { ok: true, status, receivedAt: now, timeoutMs, created: !old }
  }

  deleteHeartbeat(service: string, instance: string): boolean {
    const touched = new Set<string>()
    if (!this.index.deleteHeartbeat(service, instance, touched)) return false
    this.log.info({ service, instance }, 'heartbeat instance deregistered')
    this.mark(touched, 'now')
    return true
  }

  // ---- ContainerSink (the Docker source) -----------------------------------------------------

  replaceContainers(containers: readonly ContainerObservation[]): void {
    const touched = new Set<string>()
    this.index.replaceContainers(containers, touched)
    this.mark(touched, 'now')
  }

  upsertContainer(container: ContainerObservation): void {
    const touched = new Set<string>()
    this.index.upsertContainer(container, touched)
    this.mark(touched, 'now')
  }

  removeContainer(id: string): void {
    const touched = new Set<string>()
    for (const hb of this.index.removeContainer(id, touched)) {
      this.log.info(
        { service: hb.service, instance: hb.instance },
        'heartbeat instance dropped with its container'
      )
    }
    this.mark(touched, 'now')
  }

  setDockerStatus(status: DockerSourceStatus): void {
    const old = this.docker
    this.docker = status
    const onlyBookkeeping =
      old.state === status.state &&
      old.project === status.project &&
      old.unreachableSince === status.unreachableSince &&
      old.synced === status.synced &&
      old.detail === status.detail
    this.markHeader(onlyBookkeeping ? 'lazy' : 'now')
  }

  // ---- PeerSink (the peer sources of a hub) --------------------------------------------------

  /** A peer's whole document (on sync, or when it could not continue from our last event). */
  replacePeerDocument(peer: string, doc: HealthDocument): void {
    const touched = new Set<string>()
    this.peers.replace(peer, doc, touched)
    this.mark(touched, 'now')
  }

  applyPeerDelta(peer: string, delta: HealthDelta): void {
    const touched = new Set<string>()
    this.peers.apply(peer, delta, touched)
    this.mark(touched, 'now')
  }

  setPeerStatus(status: PeerStatus): void {
    const old = this.peers.setStatus(status)
    const onlyBookkeeping =
      old?.state === status.state &&
      old.unreachableSince === status.unreachableSince &&
      old.detail === status.detail &&
      old.synced === status.synced
    this.markHeader(onlyBookkeeping ? 'lazy' : 'now')
  }

  peerStatuses(): PeerStatus[] {
    return this.peers.statuses()
  }

  /**
   * Ready once every local source has synced (Docker listed and following, or off) and every
   * peer has either synced once or been tried for PEER_STALE_AFTER: a hub does not wait for
   * ever on a host that is down.
   */
  readiness(): Readiness {
    const now = this.deps.clock.now()
    const { doc } = this.current()
    const docker = doc.bridge.sources.docker
    const dockerReady = docker.state === 'following' || docker.state === 'disabled'
    const staleAfter = this.deps.config.peerStaleAfterMs ?? 10_000
    const peersReady = this.peers
      .statuses()
      .every((p) => p.synced || now - p.triedSince >= staleAfter)
    const ready = dockerReady && peersReady
    const status: Status = ready
      ? 'healthy'
      : docker.state === 'disconnected'
        ? 'unhealthy'
        : 'starting'
    return { status, ready, sources: doc.bridge.sources }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Re-judges everything pending now, bookkeeping included, and returns the document. */
  settle(): Rendered {
    return this.flush(true)
  }

  close(): void {
    this.scheduler.close()
    this.listeners.clear()
  }

  // ---- internals -----------------------------------------------------------------------------

  private mark(names: Iterable<string>, urgency: Urgency): void {
    for (const name of names) {
      if (urgency === 'now') {
        this.urgent.add(name)
        this.lazy.delete(name)
      } else if (!this.urgent.has(name)) this.lazy.add(name)
    }
    this.schedule(urgency)
  }

  private markHeader(urgency: Urgency): void {
    if (urgency === 'now' || this.headerDirty === null) this.headerDirty = urgency
    this.schedule(urgency)
  }

  private schedule(urgency: Urgency): void {
    if (urgency === 'now') this.scheduler.urgent()
    else this.scheduler.lazy()
  }

  /** What judging one service needs from the stack, as of `now`. */
  private context(now: number): ServiceContext & { staleUntil: number | null } {
    const staleness = dockerStaleness(this.docker, this.deps.config, now)
    return {
      config: this.deps.config,
      docker: this.docker,
      stale: staleness.stale,
      awaitedAsJobs: this.index.awaitedAsJobs,
      bridgeStartedAt: this.startedAt,
      staleUntil: staleness.until,
    }
  }

  /** Every service the stack may report: observed, configured, or reported last time. */
  private allNames(): Set<string> {
    return new Set([
      ...this.index.serviceNames(),
      ...Object.keys(this.deps.config.services),
      ...this.entries.names(),
      ...this.peers.serviceNames(),
    ])
  }

  /** Takes the services to re-judge now: urgent ones and those due, or (`all`) everything dirty. */
  private takeDirty(all: boolean, now: number, ctxChanged: boolean): string[] {
    const taken = new Set(this.urgent)
    this.urgent.clear()
    if (ctxChanged) for (const name of this.allNames()) taken.add(name)
    for (const key of this.deadlines.popDue(now)) if (!key.startsWith('#')) taken.add(key)
    // A peer that became lost (or came back): every service it reports is re-judged.
    for (const status of this.peers.statuses()) {
      const lostSince = this.peers.lostSince(status, now)
      this.deadlines.set(
        `${PEER_LOST_KEY}${status.name}`,
        lostSince === null ? this.peers.lostAt(status) : null
      )
      // Lost since another instant changes the message, not only the status.
      if (lostSince === (this.peersLost.get(status.name) ?? null)) continue
      this.peersLost.set(status.name, lostSince)
      for (const name of this.peers.servicesOf(status.name)) taken.add(name)
    }
    if (all) for (const name of this.lazy) taken.add(name)
    for (const name of taken) this.lazy.delete(name)
    // Name order, as a from-scratch judgement records transitions.
    return [...taken].sort()
  }

  private flush(all: boolean): Rendered {
    const now = this.deps.clock.now()
    const ctx = this.context(now)
    this.deadlines.set(DOCKER_STALE_KEY, ctx.staleUntil)
    // What every service's judgement depends on: when it changes, every service is re-judged.
    const key = `${ctx.docker.state === 'disabled'}|${ctx.docker.synced}|${ctx.docker.project ?? ''}|${ctx.stale?.message ?? ''}`
    const ctxChanged = key !== this.contextKey
    this.contextKey = key
    const names = this.takeDirty(all, now, ctxChanged)
    const headerWasDirty = this.headerDirty !== null && (all || this.headerDirty === 'now')
    if (headerWasDirty) this.headerDirty = null
    if (names.length === 0 && !headerWasDirty && this.rendered !== null) {
      this.scheduler.flushed(all, now)
      return this.rendered
    }

    const impactSeeds = new Set<string>()
    for (const name of names) this.refresh(name, ctx, now, impactSeeds)
    this.entries.updateImpact(impactSeeds, (name) => impactOf(name, this.entries.nodes))
    const { drawChanged, removed } = this.entries.render()

    const status = overallStatus(
      this.entries.judgedServices(),
      ctx.docker.state !== 'disabled' && !ctx.docker.synced,
      this.peers.allFollowing()
    )
    this.publish(status, now, drawChanged, removed)
    this.scheduler.flushed(all, now)
    return this.rendered as Rendered
  }

  /** Re-judges one service and records what changed about it. */
  private refresh(name: string, ctx: ServiceContext, now: number, impactSeeds: Set<string>): void {
    const obs = this.index.service(name)
    const judged = judgeService(
      name,
      [...(obs?.containers.values() ?? [])],
      [...(obs?.heartbeats.values() ?? [])],
      ctx,
      now,
      this.peers.size === 0 ? [] : this.peers.remotesOf(name, now)
    )
    for (const instance of judged.forget) {
      this.index.deleteHeartbeat(name, instance, new Set())
      this.log.info({ service: name, instance }, 'silent heartbeat instance forgotten')
    }
    const before = this.entries.get(name)?.judged ?? null
    recordTransitions(this.history, this.log, before, judged.service, now)
    if (judged.service === null) {
      this.deadlines.set(name, null)
      if (this.entries.remove(name)) impactSeeds.add(name)
      return
    }
    const flap = this.history.flapping(name, now)
    this.deadlines.set(name, earliest(judged.until, flap.until))
    const seed = this.entries.set(judged.service, judged.aliases, {
      since: this.history.sinceOf(name) ?? now,
      flapping: flap.flapping,
    })
    if (seed) impactSeeds.add(name)
  }

  private bridgeView(): BridgeView {
    return {
      name: this.deps.config.bridgeName,
      version: this.deps.version,
      startedAt: new Date(this.startedAt).toISOString(),
      sources: {
        docker: dockerSourceView(this.docker),
        heartbeat: { instances: this.index.heartbeatInstances },
        peers: this.peers.statuses().map(peerSourceView),
      },
    }
  }

  /** The new document (built lazily), and the change for listeners if its ETag moved. */
  private publish(
    status: Status,
    now: number,
    drawChanged: readonly string[],
    removed: readonly string[]
  ): void {
    const checkedAt = new Date(now).toISOString()
    const bridge = this.bridgeView()
    const header = lazily(() => encodeHeader(status, checkedAt, bridge))
    const order = this.entries.ordered()
    const fragments = order.map((e) => e.fragment)
    const views = order.map((e) => e.view)
    const drawn = { status, sources: drawnSources(bridge) }
    const drawnKey = `${drawn.status}\u0000${drawn.sources}`
    const previous = this.rendered
    // What a display draws is the same: the same tag, and no hashing of the whole document.
    const same =
      previous !== null &&
      drawChanged.length === 0 &&
      removed.length === 0 &&
      drawnKey === this.drawnKey
    this.drawnKey = drawnKey
    const hashes = same ? [] : order.map((e) => e.drawHash)
    const etag = same ? () => previous.etag : lazily(() => documentEtag(drawn, hashes))
    const doc = lazily((): HealthDocument => ({ status, checkedAt, bridge, services: views }))
    const body = lazily(() => assembleDocument(header(), fragments))
    const rendered: Rendered = {
      get doc() {
        return doc()
      },
      get body() {
        return body()
      },
      get etag() {
        return etag()
      },
      httpStatus: httpStatusOf(status),
    }
    this.rendered = rendered
    if (same || this.listeners.size === 0) return
    const changed = drawChanged.flatMap((n) => this.entries.get(n) ?? [])
    const delta = lazily(() =>
      assembleDelta(
        header(),
        changed.map((e) => e.fragment),
        removed
      )
    )
    const change: Change = {
      rendered,
      services: changed.map((e) => e.view),
      removed,
      get delta() {
        return delta()
      },
    }
    for (const l of this.listeners) l(change)
  }
}
