/**
 * The bridge's state: observations in, the judged document out, re-judged one service at a time.
 *
 * A write marks the services it touched dirty (`observations.ts` says which, `dirty.ts` keeps
 * them); a status change re-judges them in this event-loop turn, bookkeeping (lastSeenAt,
 * details) within a second (`scheduler.ts`), and time at each service's own next deadline; a
 * read past a deadline re-judges the services that are due before it answers (`rejudge.ts`).
 * Only re-judged services are re-serialized (`src/render/`); impact and the overall status are
 * recomputed from the services' results. Listeners hear of every change a display would draw,
 * with the services that changed, so the stream can send deltas (`publisher.ts`).
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import {
  DOCKER_DISABLED,
  type ContainerObservation,
  type DockerSourceStatus,
  type PeerStatus,
} from '../model/observations.js'
import type { ModelConfig } from '../model/settings.js'
import type { Bytes } from '../render/document.js'
import { dockerSourceView, peerSourceView } from '../render/views.js'
import type {
  BridgeView,
  HealthDelta,
  HealthDocument,
  InstanceView,
  Readiness,
  ServiceView,
  Transition,
} from '../wire/health-document.js'

import { DirtyServices } from './dirty.js'
import { HeartbeatIntake, type HeartbeatInput, type RecordResult } from './heartbeat-intake.js'
import { DEFAULT_HISTORY, History, type HistoryOptions } from './history.js'
import { ObservationIndex } from './observations.js'
import { connectingPeer, PeerCopies } from './peers.js'
import { DocumentPublisher, type Listener, type Rendered } from './publisher.js'
import { readinessOf } from './readiness.js'
import { Rejudger } from './rejudge.js'
import { FlushScheduler } from './scheduler.js'

export type { HeartbeatInput, RecordResult } from './heartbeat-intake.js'
export type { Change, Listener, Rendered } from './publisher.js'

/** How often heartbeat bookkeeping that changes no status may reach the document. */
export const BOOKKEEPING_INTERVAL_MS = 1000

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

/**
 * Implements the sources' ports (`ContainerSink`, `PeerSink` in src/sources/source.ts) by shape:
 * the core does not import what its adapters own; `bridge.ts` hands the store to each source.
 */
export class HealthStore {
  private readonly index = new ObservationIndex()
  private readonly peers: PeerCopies
  private readonly dirty: DirtyServices
  private readonly judge: Rejudger
  private readonly heartbeats: HeartbeatIntake
  private readonly publisher = new DocumentPublisher()
  private readonly scheduler: FlushScheduler
  private readonly history: History
  private readonly log: Logger
  private readonly startedAt: number
  private readonly peerStaleAfterMs: number
  private docker: DockerSourceStatus = DOCKER_DISABLED

  constructor(private readonly deps: HealthStoreDeps) {
    this.startedAt = deps.clock.now()
    this.history = new History(deps.history ?? DEFAULT_HISTORY)
    this.log = deps.logger.child({ module: 'store' })
    this.peerStaleAfterMs = deps.config.peerStaleAfterMs ?? 10_000
    this.peers = new PeerCopies(
      deps.config.bridgeName,
      (deps.config.peers ?? []).map((p) => connectingPeer(p, this.startedAt)),
      this.peerStaleAfterMs
    )
    // Services the configuration declares are reported even before anything is observed.
    this.dirty = new DirtyServices((urgency) => {
      if (urgency === 'now') this.scheduler.urgent()
      else this.scheduler.lazy()
    }, Object.keys(deps.config.services))
    this.judge = new Rejudger({
      config: deps.config,
      bridgeStartedAt: this.startedAt,
      index: this.index,
      peers: this.peers,
      docker: () => this.docker,
      dirty: this.dirty,
      history: this.history,
      log: this.log,
    })
    this.heartbeats = new HeartbeatIntake({
      index: this.index,
      dirty: this.dirty,
      maxInstances: deps.config.maxInstances,
      context: (now) => this.judge.context(now),
      log: this.log,
    })
    this.scheduler = new FlushScheduler(
      {
        flushUrgent: () => this.flush(false),
        flushAll: () => this.flush(true),
        nextDeadline: () => this.judge.nextDeadline(),
      },
      deps.clock,
      BOOKKEEPING_INTERVAL_MS
    )
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The current document; re-judged first if something changed or a deadline has passed. */
  current(): Rendered {
    const due = this.judge.nextDeadline()
    const rendered = this.publisher.rendered
    if (
      rendered === null ||
      this.dirty.urgentPending ||
      (due !== null && this.deps.clock.now() >= due)
    ) {
      return this.flush(false)
    }
    return rendered
  }

  /** One service of the current document: its object, its bytes and its own weak ETag. */
  service(name: string): { view: ServiceView; body: Bytes; etag: string } | undefined {
    this.current()
    const e = this.judge.entries.get(name)
    return e && { view: e.view, body: e.fragment, etag: e.etag }
  }

  /** Finds an instance by its id or anything it answers to: container id (or 12+ prefix), name, hostname. */
  instance(service: string, query: string): InstanceView | undefined {
    this.current()
    const e = this.judge.entries.get(service)
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
    return this.publisher.subscribe(listener)
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  recordHeartbeat(input: HeartbeatInput): RecordResult {
    return this.heartbeats.record(input, this.deps.clock.now())
  }

  deleteHeartbeat(service: string, instance: string): boolean {
    return this.heartbeats.delete(service, instance)
  }

  // ---- ContainerSink (the Docker source) -----------------------------------------------------

  replaceContainers(containers: readonly ContainerObservation[]): void {
    const touched = new Set<string>()
    this.index.replaceContainers(containers, touched)
    this.dirty.mark(touched, 'now')
  }

  upsertContainer(container: ContainerObservation): void {
    const touched = new Set<string>()
    this.index.upsertContainer(container, touched)
    this.dirty.mark(touched, 'now')
  }

  removeContainer(id: string): void {
    const touched = new Set<string>()
    for (const hb of this.index.removeContainer(id, touched)) {
      this.log.info(
        { service: hb.service, instance: hb.instance },
        'heartbeat instance dropped with its container'
      )
    }
    this.dirty.mark(touched, 'now')
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
    this.dirty.markHeader(onlyBookkeeping ? 'lazy' : 'now')
  }

  // ---- PeerSink (the peer sources of a hub) --------------------------------------------------

  /** A peer's whole document (on sync, or when it could not continue from our last event). */
  replacePeerDocument(peer: string, doc: HealthDocument): void {
    const touched = new Set<string>()
    this.peers.replace(peer, doc, touched)
    this.dirty.mark(touched, 'now')
  }

  applyPeerDelta(peer: string, delta: HealthDelta): void {
    const touched = new Set<string>()
    this.peers.apply(peer, delta, touched)
    this.dirty.mark(touched, 'now')
  }

  setPeerStatus(status: PeerStatus): void {
    const old = this.peers.setStatus(status)
    const onlyBookkeeping =
      old?.state === status.state &&
      old.unreachableSince === status.unreachableSince &&
      old.detail === status.detail &&
      old.synced === status.synced
    this.dirty.markHeader(onlyBookkeeping ? 'lazy' : 'now')
  }

  peerStatuses(): PeerStatus[] {
    return this.peers.statuses()
  }

  /** Whether the bridge is ready (`readiness.ts`), as of the current document. */
  readiness(): Readiness {
    const now = this.deps.clock.now()
    const { sources } = this.current().doc.bridge
    return readinessOf(sources, this.peers.statuses(), this.peerStaleAfterMs, now)
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Re-judges everything pending now, bookkeeping included, and returns the document. */
  settle(): Rendered {
    return this.flush(true)
  }

  close(): void {
    this.scheduler.close()
    this.publisher.close()
  }

  // ---- internals -----------------------------------------------------------------------------

  private flush(all: boolean): Rendered {
    const now = this.deps.clock.now()
    const previous = this.publisher.rendered
    const judged = this.judge.rejudge(all, now, previous === null)
    const rendered =
      judged === null
        ? (previous as Rendered)
        : this.publisher.publish(judged, now, this.bridgeView(), this.judge.entries)
    this.scheduler.flushed(all, now)
    return rendered
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
}
