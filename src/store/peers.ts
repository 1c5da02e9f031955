/**
 * On a hub: the last document of each peer bridge, kept per service, and the peers' states.
 * Turns a peer's services into the model's `RemoteService`s: instances the hub reports itself
 * (its own name as host) are dropped, so hubs that follow each other do not echo; an instance
 * is taken from the peer that observed it when the hub follows that one directly; ids are
 * qualified with their host, so the same container name on two hosts stays two instances.
 */
import { jobStateOf } from '../model/judge-container.js'
import type { JobJudgement } from '../model/job.js'
import type { PeerStatus } from '../model/observations.js'
import type { RemoteInstance, RemoteService } from '../model/remote.js'
import type {
  HealthDelta,
  HealthDocument,
  InstanceView,
  ServiceView,
} from '../wire/health-document.js'

interface PeerCopy {
  status: PeerStatus
  services: Map<string, ServiceView>
}

/** A configured peer before its first connection: unreachable (and tried) since `since`. */
export function connectingPeer(peer: { name: string; url: string }, since: number): PeerStatus {
  return {
    name: peer.name,
    url: peer.url,
    state: 'connecting',
    lastEventAt: null,
    unreachableSince: since,
    detail: null,
    synced: false,
    triedSince: since,
  }
}

/** `id@host`, unless a hub already qualified it with that host. */
export function qualifiedId(id: string, host: string): string {
  return id.endsWith(`@${host}`) ? id : `${id}@${host}`
}

function recencyOf(i: InstanceView): number {
  const at = i.docker?.startedAt ?? i.docker?.finishedAt ?? i.heartbeat?.lastSeenAt ?? null
  return at === null ? 0 : Date.parse(at)
}

function jobOf(i: InstanceView): JobJudgement {
  if (i.status === 'unknown') return { state: 'unknown', exitCode: i.docker?.exitCode ?? null }
  if (i.docker) {
    const state = jobStateOf({
      state: i.docker.state,
      exitCode: i.docker.exitCode,
    })
    return { state, exitCode: i.docker.exitCode }
  }
  const reported = i.heartbeat?.reported
  return {
    state: reported === 'succeeded' || reported === 'failed' ? reported : 'running',
    exitCode: null,
  }
}

export class PeerCopies {
  private readonly peers = new Map<string, PeerCopy>()
  /** Remote instances by the peer's object: converted once per object, not per judgement. */
  private readonly converted = new WeakMap<InstanceView, RemoteInstance>()

  constructor(
    private readonly self: string,
    peers: readonly PeerStatus[],
    private readonly staleAfterMs: number
  ) {
    for (const status of peers) this.peers.set(status.name, { status, services: new Map() })
  }

  get size(): number {
    return this.peers.size
  }

  statuses(): PeerStatus[] {
    return [...this.peers.values()].map((p) => p.status)
  }

  status(name: string): PeerStatus | undefined {
    return this.peers.get(name)?.status
  }

  /** Every service any peer reports. */
  serviceNames(): Set<string> {
    const names = new Set<string>()
    for (const p of this.peers.values()) for (const n of p.services.keys()) names.add(n)
    return names
  }

  servicesOf(peer: string): IterableIterator<string> {
    return this.peers.get(peer)?.services.keys() ?? [].values()
  }

  setStatus(status: PeerStatus): PeerStatus | undefined {
    const p = this.peers.get(status.name)
    if (!p) return undefined
    const old = p.status
    p.status = status
    return old
  }

  /** Replaces a peer's whole copy; returns the services touched. */
  replace(peer: string, doc: HealthDocument, touched: Set<string>): void {
    const p = this.peers.get(peer)
    if (!p) return
    for (const name of p.services.keys()) touched.add(name)
    p.services = new Map(doc.services.map((s) => [s.name, s]))
    for (const name of p.services.keys()) touched.add(name)
  }

  apply(peer: string, delta: HealthDelta, touched: Set<string>): void {
    const p = this.peers.get(peer)
    if (!p) return
    for (const name of delta.removed) if (p.services.delete(name)) touched.add(name)
    for (const s of delta.services) {
      p.services.set(s.name, s)
      touched.add(s.name)
    }
  }

  /** Whether a peer is lost at `now`: unheard for longer than PEER_STALE_AFTER. */
  lostSince(status: PeerStatus, now: number): number | null {
    if (status.state === 'following' || status.unreachableSince === null) return null
    return now >= status.unreachableSince + this.staleAfterMs ? status.unreachableSince : null
  }

  /** When a peer that is not yet lost will be, if nothing is heard from it first. */
  lostAt(status: PeerStatus): number | null {
    if (status.state === 'following' || status.unreachableSince === null) return null
    return status.unreachableSince + this.staleAfterMs
  }

  allFollowing(): boolean {
    for (const p of this.peers.values()) if (p.status.state !== 'following') return false
    return true
  }

  /** What the peers report of one service, for the hub's judgement. */
  remotesOf(service: string, now: number): RemoteService[] {
    const out: RemoteService[] = []
    for (const [peer, p] of [...this.peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const s = p.services.get(service)
      if (!s) continue
      const instances: RemoteInstance[] = []
      for (const i of s.instances) {
        // Ours (echoed by a hub that follows us), or observed by a peer we follow directly.
        if (i.host === this.self || (i.host !== peer && this.peers.has(i.host))) continue
        instances.push(this.remoteInstance(i))
      }
      out.push({
        peer,
        lostSince: this.lostSince(p.status, now),
        kind: s.kind,
        critical: s.critical,
        dependsOn: s.dependsOn,
        status: s.status,
        message: s.message,
        instances,
      })
    }
    return out
  }

  private remoteInstance(i: InstanceView): RemoteInstance {
    let r = this.converted.get(i)
    if (!r) {
      r = {
        id: qualifiedId(i.id, i.host),
        host: i.host,
        status: i.status,
        message: i.message,
        containerId: i.docker?.containerId ?? null,
        containerName: i.docker?.name ?? null,
        recency: recencyOf(i),
        job: jobOf(i),
        view: i,
      }
      this.converted.set(i, r)
    }
    return r
  }
}
