/**
 * From the model's judgement to the wire document's objects. Timestamps are turned into ISO
 * strings once per observation, not once per render: observations are immutable and replaced
 * on change, so each one's wire part is cached by identity.
 */
import type { JudgedInstance, JudgedService } from '../model/judged.js'
import type {
  ContainerObservation,
  DockerSourceStatus,
  HeartbeatObservation,
  PeerStatus,
} from '../model/observations.js'
import type {
  BridgeView,
  DockerPart,
  HealthDocument,
  HeartbeatPart,
  InstanceView,
  PeerSourceView,
  ServiceView,
} from '../wire/health-document.js'

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

const dockerParts = new WeakMap<ContainerObservation, DockerPart>()
const heartbeatParts = new WeakMap<HeartbeatObservation, HeartbeatPart>()

function dockerPart(c: ContainerObservation, recentRestarts: number): DockerPart {
  const cached = dockerParts.get(c)
  if (cached?.recentRestarts === recentRestarts) return cached
  const part: DockerPart = {
    containerId: c.id,
    name: c.name,
    state: c.state,
    health: c.health,
    failingStreak: c.failingStreak,
    exitCode: c.exitCode,
    oomKilled: c.oomKilled,
    restartCount: c.restartCount,
    recentRestarts,
    startedAt: iso(c.startedAt),
    finishedAt: iso(c.finishedAt),
    lastProbeOutput: c.lastProbeOutput,
  }
  dockerParts.set(c, part)
  return part
}

function heartbeatPart(
  hb: HeartbeatObservation | null,
  timeoutMs: number,
  expected: boolean
): HeartbeatPart {
  const timeoutSeconds = timeoutMs / 1000
  if (hb === null) {
    return {
      expected,
      lastSeenAt: null,
      timeoutSeconds,
      reported: null,
      error: null,
      details: null,
      clockSkewSeconds: null,
    }
  }
  const cached = heartbeatParts.get(hb)
  if (cached?.timeoutSeconds === timeoutSeconds && cached.expected === expected) return cached
  const part: HeartbeatPart = {
    expected,
    lastSeenAt: iso(hb.receivedAt),
    timeoutSeconds,
    reported: hb.reported,
    error: hb.error,
    details: hb.details,
    clockSkewSeconds: hb.clockSkewSeconds,
  }
  heartbeatParts.set(hb, part)
  return part
}

export function instanceView(i: JudgedInstance): InstanceView {
  if (i.remote !== null) {
    // The peer's object, validated when it arrived; the hub's judgement and id on top.
    const peer = i.remote.view as InstanceView
    return {
      ...peer,
      id: i.id,
      host: i.host,
      status: i.status,
      message: i.message,
      heartbeat:
        i.heartbeat === null
          ? peer.heartbeat
          : heartbeatPart(i.heartbeat.last, i.heartbeat.timeoutMs, i.heartbeat.expected),
    }
  }
  return {
    id: i.id,
    host: i.host,
    status: i.status,
    message: i.message,
    docker: i.container === null ? null : dockerPart(i.container, i.recentRestarts),
    heartbeat:
      i.heartbeat === null
        ? null
        : heartbeatPart(i.heartbeat.last, i.heartbeat.timeoutMs, i.heartbeat.expected),
  }
}

/** What only the store's history knows about a service: since when, and whether it flaps. */
export interface ServiceHistory {
  since: number
  flapping: boolean
}

export function serviceView(
  s: JudgedService,
  impactedBy: readonly string[],
  history: ServiceHistory
): ServiceView {
  return {
    name: s.name,
    status: s.status,
    kind: s.kind,
    critical: s.critical,
    message: s.message,
    since: new Date(history.since).toISOString(),
    flapping: history.flapping,
    dependsOn: [...s.dependsOn],
    impactedBy: [...impactedBy],
    job: s.job,
    instances: s.instances.map(instanceView),
  }
}

export function dockerSourceView(
  d: DockerSourceStatus
): HealthDocument['bridge']['sources']['docker'] {
  return {
    state: d.state,
    project: d.project,
    lastEventAt: iso(d.lastEventAt),
    unreachableSince: iso(d.unreachableSince),
    detail: d.detail,
  }
}

export function peerSourceView(p: PeerStatus): PeerSourceView {
  return {
    name: p.name,
    url: p.url,
    state: p.state,
    lastEventAt: iso(p.lastEventAt),
    unreachableSince: iso(p.unreachableSince),
    detail: p.detail,
  }
}

/** What a display draws of the sources (their states), for the document's ETag. */
export function drawnSources(bridge: BridgeView): string {
  const peers = bridge.sources.peers.map((p) => `${p.name}=${p.state}`).join(',')
  return `${bridge.sources.docker.state}|${peers}`
}
