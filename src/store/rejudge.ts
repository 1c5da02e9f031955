/**
 * The incremental judgement: which services are due (marked dirty, past a deadline, on a peer
 * that was lost or came back, or all of them when the stack-wide context changed), re-judging
 * each (`model/judge-service.ts`), recording its transitions and next deadline, and the stack's
 * part (impact, the overall status) from the services' results.
 */
import type { Logger } from '../logger.js'
import { dockerStaleness } from '../model/judge-container.js'
import { judgeService } from '../model/judge-service.js'
import { impactOf, overallStatus } from '../model/judge-stack.js'
import type { DockerSourceStatus } from '../model/observations.js'
import type { ServiceContext } from '../model/service-context.js'
import type { ModelConfig } from '../model/settings.js'
import { earliest } from '../model/verdict.js'

import { DeadlineQueue } from './deadlines.js'
import type { DirtyServices } from './dirty.js'
import type { History } from './history.js'
import type { ObservationIndex } from './observations.js'
import type { PeerCopies } from './peers.js'
import type { Redrawn } from './publisher.js'
import { ServiceEntries } from './service-entries.js'
import { recordTransitions } from './transitions.js'

/** Deadline keys of stack-wide instants (service names cannot start with `#`). */
const DOCKER_STALE_KEY = '#docker-stale'
const PEER_LOST_KEY = '#peer-lost:'

export interface RejudgeDeps {
  config: ModelConfig
  bridgeStartedAt: number
  index: ObservationIndex
  peers: PeerCopies
  docker: () => DockerSourceStatus
  dirty: DirtyServices
  history: History
  log: Logger
}

export class Rejudger {
  /** The judged services, each rendered: what the document is made of. */
  readonly entries = new ServiceEntries()
  private readonly deadlines = new DeadlineQueue()
  /** Per peer, since when it counted as lost at the last re-judge (null: not lost). */
  private readonly peersLost = new Map<string, number | null>()
  private contextKey: string | null = null

  constructor(private readonly deps: RejudgeDeps) {}

  /** The earliest instant at which time alone changes something, or null. */
  nextDeadline(): number | null {
    return this.deadlines.peek()
  }

  /** What judging one service needs from the stack, as of `now`. */
  context(now: number): ServiceContext & { staleUntil: number | null } {
    const docker = this.deps.docker()
    const staleness = dockerStaleness(docker, this.deps.config, now)
    return {
      config: this.deps.config,
      docker,
      stale: staleness.stale,
      awaitedAsJobs: this.deps.index.awaitedAsJobs,
      bridgeStartedAt: this.deps.bridgeStartedAt,
      staleUntil: staleness.until,
    }
  }

  /**
   * Re-judges what is due (`all`: bookkeeping too). Null when nothing was due and `force` is
   * off: the last document still holds.
   */
  rejudge(all: boolean, now: number, force: boolean): Redrawn | null {
    const ctx = this.context(now)
    this.deadlines.set(DOCKER_STALE_KEY, ctx.staleUntil)
    // What every service's judgement depends on: when it changes, every service is re-judged.
    const key = `${ctx.docker.state === 'disabled'}|${ctx.docker.synced}|${ctx.docker.project ?? ''}|${ctx.stale?.message ?? ''}`
    const ctxChanged = key !== this.contextKey
    this.contextKey = key
    const names = this.deps.dirty.take(all, this.dueNames(now, ctxChanged))
    const headerWasDirty = this.deps.dirty.takeHeader(all)
    if (names.length === 0 && !headerWasDirty && !force) return null

    const impactSeeds = new Set<string>()
    for (const name of names) this.refresh(name, ctx, now, impactSeeds)
    this.entries.updateImpact(impactSeeds, (name) => impactOf(name, this.entries.nodes))
    const { drawChanged, removed } = this.entries.render()
    const status = overallStatus(
      this.entries.judgedServices(),
      ctx.docker.state !== 'disabled' && !ctx.docker.synced,
      this.deps.peers.allFollowing()
    )
    return { status, drawChanged, removed }
  }

  /** Every service the stack may report: observed, configured, or reported last time. */
  private allNames(): Set<string> {
    return new Set([
      ...this.deps.index.serviceNames(),
      ...Object.keys(this.deps.config.services),
      ...this.entries.names(),
      ...this.deps.peers.serviceNames(),
    ])
  }

  /** Services due besides the dirty ones: all on a context change, past deadlines, lost peers'. */
  private dueNames(now: number, ctxChanged: boolean): Set<string> {
    const { peers } = this.deps
    const due = ctxChanged ? this.allNames() : new Set<string>()
    for (const key of this.deadlines.popDue(now)) if (!key.startsWith('#')) due.add(key)
    // A peer that became lost (or came back): every service it reports is re-judged.
    for (const status of peers.statuses()) {
      const lostSince = peers.lostSince(status, now)
      this.deadlines.set(
        `${PEER_LOST_KEY}${status.name}`,
        lostSince === null ? peers.lostAt(status) : null
      )
      // Lost since another instant changes the message, not only the status.
      if (lostSince === (this.peersLost.get(status.name) ?? null)) continue
      this.peersLost.set(status.name, lostSince)
      for (const name of peers.servicesOf(status.name)) due.add(name)
    }
    return due
  }

  /** Re-judges one service and records what changed about it. */
  private refresh(name: string, ctx: ServiceContext, now: number, impactSeeds: Set<string>): void {
    const { index, peers, history, log } = this.deps
    const obs = index.service(name)
    const judged = judgeService(
      name,
      [...(obs?.containers.values() ?? [])],
      [...(obs?.heartbeats.values() ?? [])],
      ctx,
      now,
      peers.size === 0 ? [] : peers.remotesOf(name, now)
    )
    for (const instance of judged.forget) {
      index.deleteHeartbeat(name, instance, new Set())
      log.info({ service: name, instance }, 'silent heartbeat instance forgotten')
    }
    const before = this.entries.get(name)?.judged ?? null
    recordTransitions(history, log, before, judged.service, now)
    if (judged.service === null) {
      this.deadlines.set(name, null)
      if (this.entries.remove(name)) impactSeeds.add(name)
      return
    }
    const flap = history.flapping(name, now)
    this.deadlines.set(name, earliest(judged.until, flap.until))
    const seed = this.entries.set(judged.service, judged.aliases, {
      since: history.sinceOf(name) ?? now,
      flapping: flap.flapping,
    })
    if (seed) impactSeeds.add(name)
  }
}
