/**
 * The reference the incremental store is compared with: every service judged from scratch with
 * `judge()` on every read, every transition recorded by comparing all services, the whole
 * document built with one `JSON.stringify`. Slow and obviously right; only tests use it.
 */
import type { Logger } from '../../src/logger.js'
import { judge, type Observations } from '../../src/model/judge.js'
import type { JudgedService } from '../../src/model/judged.js'
import { documentEtag, serviceDrawHash } from '../../src/render/etag.js'
import {
  dockerSourceView,
  drawnSources,
  peerSourceView,
  serviceView,
} from '../../src/render/views.js'
import type { StoreConfig } from '../../src/store/health-store.js'
import { History, type HistoryOptions } from '../../src/store/history.js'
import type { PeerCopies } from '../../src/store/peers.js'
import { recordTransitions } from '../../src/store/transitions.js'
import type { HealthDocument } from '../../src/wire/health-document.js'

export interface FromScratchResult {
  doc: HealthDocument
  body: string
  etag: string
  /** `service/instance` keys the judgement dropped. */
  forget: string[]
}

export class FromScratch {
  readonly history: History
  private previous = new Map<string, JudgedService>()

  constructor(
    private readonly config: StoreConfig,
    private readonly log: Logger,
    private readonly version: string,
    history: HistoryOptions,
    /** On a hub: the reference's own copy of what the peers sent. */
    private readonly peers: PeerCopies | null = null
  ) {
    this.history = new History(history)
  }

  render(obs: Observations, heartbeatInstances: number, now: number): FromScratchResult {
    const peers = this.peers
    const remotes = new Map(
      [...(peers?.serviceNames() ?? [])].map((name) => [name, peers?.remotesOf(name, now) ?? []])
    )
    const j = judge(
      { ...obs, remotes, peersFollowing: peers?.allFollowing() ?? true },
      this.config,
      now
    )
    const next = new Map(j.services.map((s) => [s.name, s]))
    const names = [...new Set([...next.keys(), ...this.previous.keys()])].sort()
    for (const name of names) {
      recordTransitions(
        this.history,
        this.log,
        this.previous.get(name) ?? null,
        next.get(name) ?? null,
        now
      )
    }
    this.previous = next
    const services = j.services.map((s) =>
      serviceView(s, s.impactedBy, {
        since: this.history.sinceOf(s.name) ?? now,
        flapping: this.history.flapping(s.name, now).flapping,
      })
    )
    const forgotten = new Set(j.forget)
    const doc: HealthDocument = {
      status: j.status,
      checkedAt: new Date(now).toISOString(),
      bridge: {
        name: this.config.bridgeName,
        version: this.version,
        startedAt: new Date(obs.bridgeStartedAt).toISOString(),
        sources: {
          docker: dockerSourceView(obs.docker),
          heartbeat: { instances: heartbeatInstances - forgotten.size },
          peers: (this.peers?.statuses() ?? []).map(peerSourceView),
        },
      },
      services,
    }
    return {
      doc,
      body: JSON.stringify(doc),
      etag: documentEtag(
        { status: doc.status, sources: drawnSources(doc.bridge) },
        services.map(serviceDrawHash)
      ),
      forget: j.forget,
    }
  }
}
