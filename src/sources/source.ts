/**
 * The ports between the sources and the rest of the bridge. Each is owned here, by the sources
 * that use it, and implemented elsewhere: the store is the `ContainerSink` and the `PeerSink`,
 * the metrics implement `DockerSourceEvents`. Nothing in `src/sources/` imports the store or the
 * metrics.
 */
import type { ContainerObservation, DockerSourceStatus, PeerStatus } from '../model/observations.js'
import type { HealthDelta, HealthDocument } from '../wire/health-document.js'

import type { EventAction } from './docker/events.js'

/**
 * A long-lived producer of observations (the Docker engine, a hub's peers). `bridge.ts` starts
 * each source once the server listens and stops them on shutdown. Readiness is not asked of a
 * source: each publishes its state (through its sink), and `/health/ready` reads that.
 */
export interface HealthSource {
  /** Begins the source's work in the background. Never throws for runtime failures. */
  start(): void
  /** Stops every stream and timer of the source; resolves once nothing is left running. */
  stop(): Promise<void>
}

/**
 * Where the Docker source delivers what it sees. Implemented by the observation store; a test
 * of the Docker source may use a hand-written fake of it.
 */
export interface ContainerSink {
  /** Replace the whole set of containers (after a full list): anything not in `containers` is gone. */
  replaceContainers(containers: readonly ContainerObservation[]): void
  /** Add or update one container. */
  upsertContainer(container: ContainerObservation): void
  /** The container was destroyed. */
  removeContainer(id: string): void
  /** The source's own state (connecting, following, ...). */
  setDockerStatus(status: DockerSourceStatus): void
}

/** Where a hub's peer sources deliver what each peer bridge serves (validated already). */
export interface PeerSink {
  /** The peer's whole document: its first, or one sent because it could not continue. */
  replacePeerDocument(peer: string, doc: HealthDocument): void
  /** One `event: delta` of the peer's stream, in order. */
  applyPeerDelta(peer: string, delta: HealthDelta): void
  setPeerStatus(status: PeerStatus): void
}

/**
 * What the Docker source reports happening, for `GET /metrics`. Narrow on purpose: the source
 * knows nothing about Prometheus, and a test of the source may pass a hand-written fake.
 */
export interface DockerSourceEvents {
  /** One event of the engine's `/events` stream (after de-duplication), by its action. */
  eventReceived(action: EventAction): void
  /** The events stream was re-established after it ended or failed (not the first connect). */
  streamReconnected(): void
  /** The events stream stalled without closing: the reconciliation saw changes no event reported. */
  streamStalled(): void
}
