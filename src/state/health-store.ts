/**
 * The one place observations live. Sources write into it (Docker through the `ContainerSink`
 * interface, heartbeats through `recordHeartbeat`); readers get the judged document, kept
 * serialized between changes so a poll costs a lookup. It re-judges when an observation changes
 * (coalesced per event-loop turn), when the next deadline of the model passes (exactly: a read
 * after the deadline re-judges before answering), and, for heartbeats that change no status,
 * at most once a second.
 */
import { createHash, type Hash } from 'node:crypto'

import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { heartbeatKey, judge, matches, type Judgement, type JudgedService } from '../model/judge.js'
import { judgeHeartbeat } from '../model/judge-heartbeat.js'
import {
  DOCKER_DISABLED,
  type ContainerObservation,
  type DockerSourceStatus,
  type HeartbeatObservation,
  type ReportedStatus,
} from '../model/observations.js'
import type { ModelConfig } from '../model/settings.js'
import { httpStatusOf, type Status } from '../model/status.js'
import { earliest } from '../model/verdict.js'
import type { ContainerSink } from '../sources/source.js'
import type { HealthDocument, ServiceView, Transition } from '../wire/health-document.js'

import { DEFAULT_HISTORY, History, type HistoryOptions } from './history.js'

/** How often heartbeat bookkeeping that changes no status may re-render the document. */
export const BOOKKEEPING_INTERVAL_MS = 1000
// setTimeout cannot wait longer than this; a farther deadline is simply re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1

export interface StoreConfig extends ModelConfig {
  maxInstances: number
}

export interface HealthStoreDeps {
  config: StoreConfig
  clock: Clock
  logger: Logger
  version: string
  history?: HistoryOptions
}

/** A judged document, ready to serve. */
export interface Rendered {
  readonly doc: HealthDocument
  readonly body: string
  readonly etag: string
  readonly httpStatus: 200 | 503
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

export type Listener = (rendered: Rendered) => void

export class HealthStore implements ContainerSink {
  private readonly containers = new Map<string, ContainerObservation>()
  private readonly heartbeats = new Map<string, HeartbeatObservation>()
  private docker: DockerSourceStatus = DOCKER_DISABLED
  private readonly startedAt: number
  private readonly history: History
  private readonly listeners = new Set<Listener>()
  private readonly log: Logger

  private rendered: Rendered | null = null
  private judgement: Judgement | null = null
  private servicesByName = new Map<string, ServiceView>()
  private serviceBodies = new Map<string, { body: string; etag: string }>()
  private previous = new Map<string, { status: Status; instances: Map<string, Status> }>()
  private timeouts = new Map<string, number>()
  private nextDeadline: number | null = null
  private lastRenderAt = -Infinity

  private dirty = true
  private immediate: NodeJS.Immediate | null = null
  private deadlineTimer: NodeJS.Timeout | null = null
  private bookkeepingTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor(private readonly deps: HealthStoreDeps) {
    this.startedAt = deps.clock.now()
    this.history = new History(deps.history ?? DEFAULT_HISTORY)
    this.log = deps.logger.child({ module: 'store' })
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The current document; re-judged first if anything changed or a deadline has passed. */
  current(): Rendered {
    const now = this.deps.clock.now()
    if (
      this.dirty ||
      this.rendered === null ||
      (this.nextDeadline !== null && now >= this.nextDeadline)
    ) {
      return this.rejudge()
    }
    return this.rendered
  }

  /** One service of the current document, serialized (with its own weak ETag) once per render. */
  service(name: string): { view: ServiceView; body: string; etag: string } | undefined {
    this.current()
    const view = this.servicesByName.get(name)
    if (!view) return undefined
    let served = this.serviceBodies.get(name)
    if (served === undefined) {
      served = { body: JSON.stringify(view), etag: serviceEtagOf(view) }
      this.serviceBodies.set(name, served)
    }
    return { view, ...served }
  }

  /** Finds an instance by its id or anything it answers to: container id (or 12+ prefix), name, hostname. */
  instance(service: string, query: string): ServiceView['instances'][number] | undefined {
    const svc = this.service(service)
    if (!svc) return undefined
    const aliases = this.judgement?.aliases.get(service)
    let id = aliases?.get(query)
    if (id === undefined && query.length >= 12) {
      id = svc.view.instances.find((i) => i.docker?.containerId.startsWith(query))?.id
    }
    return svc.view.instances.find((i) => i.id === (id ?? query))
  }

  dockerStatus(): DockerSourceStatus {
    return this.docker
  }

  heartbeatInstances(): number {
    return this.heartbeats.size
  }

  transitions(service?: string, limit?: number): Transition[] {
    return this.history.list(service, limit)
  }

  /** Called with every new document whose ETag differs from the last one. Returns an unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  heartbeatTimeoutFor(service: string): number {
    return (
      this.timeouts.get(service) ??
      this.deps.config.services[service]?.heartbeatTimeout ??
      this.deps.config.heartbeatTimeoutMs
    )
  }

  recordHeartbeat(input: HeartbeatInput): RecordResult {
    const now = this.deps.clock.now()
    const key = heartbeatKey(input.service, input.instance)
    const old = this.heartbeats.get(key)
    if (!old && this.heartbeats.size >= this.deps.config.maxInstances) {
      return { ok: false, reason: 'too_many_instances', limit: this.deps.config.maxInstances }
    }
    const hb: HeartbeatObservation = {
      service: input.service,
      instance: input.instance,
      receivedAt: now,
      firstSeenAt: old?.firstSeenAt ?? now,
      reported: input.reported,
      error: input.error,
      details: input.details,
      clockSkewSeconds: input.sentAt === null ? null : Math.round(input.sentAt - now) / 1000,
      remoteAddress: input.remoteAddress,
    }
    this.heartbeats.set(key, hb)
    const timeoutMs = this.heartbeatTimeoutFor(input.service)
    const judged = judgeHeartbeat(hb, timeoutMs, now)
    if (!old) {
      this.log.info({ service: hb.service, instance: hb.instance }, 'heartbeat instance registered')
      this.changed()
    } else {
      const before = judgeHeartbeat(old, timeoutMs, now)
      // Same status and message: only bookkeeping (lastSeenAt, details) moved; no need to hurry.
      if (
        before.status === judged.status &&
        before.message === judged.message &&
        old.reported === hb.reported
      ) {
        this.bookkeeping()
      } else {
        this.changed()
      }
    }
    return { ok: true, status: judged.status, receivedAt: now, timeoutMs, created: !old }
  }

  deleteHeartbeat(service: string, instance: string): boolean {
    const deleted = this.heartbeats.delete(heartbeatKey(service, instance))
    if (deleted) {
      this.log.info({ service, instance }, 'heartbeat instance deregistered')
      this.changed()
    }
    return deleted
  }

  // ---- ContainerSink (the Docker source) -----------------------------------------------------

  replaceContainers(containers: readonly ContainerObservation[]): void {
    this.containers.clear()
    for (const c of containers) this.containers.set(c.id, c)
    this.changed()
  }

  upsertContainer(container: ContainerObservation): void {
    this.containers.set(container.id, container)
    this.changed()
  }

  removeContainer(id: string): void {
    const gone = this.containers.get(id)
    if (!gone) return
    this.containers.delete(id)
    // Heartbeats that spoke for this container die with it: a crashed or scaled-down replica
    // that never deregistered must not linger as an unhealthy instance for 10 timeouts.
    for (const [key, hb] of this.heartbeats) {
      if (hb.service === gone.service && matches(hb.instance, gone, true)) {
        this.heartbeats.delete(key)
        this.log.info(
          { service: hb.service, instance: hb.instance },
          'heartbeat instance dropped with its container'
        )
      }
    }
    this.changed()
  }

  containerList(): ContainerObservation[] {
    return [...this.containers.values()]
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
    if (onlyBookkeeping) this.bookkeeping()
    else this.changed()
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  close(): void {
    this.closed = true
    if (this.immediate) clearImmediate(this.immediate)
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    if (this.bookkeepingTimer) clearTimeout(this.bookkeepingTimer)
    this.immediate = this.deadlineTimer = this.bookkeepingTimer = null
    this.listeners.clear()
  }

  // ---- internals -----------------------------------------------------------------------------

  /** An observation changed that may change a status: re-judge this event-loop turn. */
  private changed(): void {
    this.dirty = true
    if (this.immediate || this.closed) return
    this.immediate = setImmediate(() => {
      this.immediate = null
      if (this.dirty) this.rejudge()
    })
  }

  /** Only bookkeeping moved (lastSeenAt, details): refresh within a second, not on every write. */
  private bookkeeping(): void {
    if (this.bookkeepingTimer || this.closed) return
    const wait = Math.max(0, this.lastRenderAt + BOOKKEEPING_INTERVAL_MS - this.deps.clock.now())
    this.bookkeepingTimer = setTimeout(() => {
      this.bookkeepingTimer = null
      this.rejudge()
    }, wait)
    this.bookkeepingTimer.unref()
  }

  private rejudge(): Rendered {
    const now = this.deps.clock.now()
    const j = judge(
      {
        containers: this.containers.values(),
        heartbeats: this.heartbeats.values(),
        docker: this.docker,
        bridgeStartedAt: this.startedAt,
      },
      this.deps.config,
      now
    )
    for (const key of j.forget) {
      const hb = this.heartbeats.get(key)
      this.heartbeats.delete(key)
      if (hb)
        this.log.info(
          { service: hb.service, instance: hb.instance },
          'silent heartbeat instance forgotten'
        )
    }
    this.recordTransitions(j.services, now)

    let deadline = j.nextDeadline
    const services: ServiceView[] = j.services.map((s) => {
      const flap = this.history.flapping(s.name, now)
      deadline = earliest(deadline, flap.until)
      return { ...withHistory(s, this.history.sinceOf(s.name) ?? now, flap.flapping) }
    })
    this.timeouts = j.heartbeatTimeouts

    const doc: HealthDocument = {
      status: j.status,
      checkedAt: new Date(now).toISOString(),
      bridge: {
        name: this.deps.config.bridgeName,
        version: this.deps.version,
        startedAt: new Date(this.startedAt).toISOString(),
        sources: {
          docker: dockerView(this.docker),
          heartbeat: { instances: this.heartbeats.size },
          peers: [],
        },
      },
      services,
    }
    const previousEtag = this.rendered?.etag
    const rendered: Rendered = {
      doc,
      body: JSON.stringify(doc),
      etag: etagOf(doc),
      httpStatus: httpStatusOf(doc.status),
    }
    this.rendered = rendered
    this.judgement = j
    this.servicesByName = new Map(services.map((s) => [s.name, s]))
    this.serviceBodies = new Map()
    this.dirty = false
    this.lastRenderAt = now
    this.armDeadline(deadline, now)
    if (rendered.etag !== previousEtag) for (const l of this.listeners) l(rendered)
    return rendered
  }

  private armDeadline(deadline: number | null, now: number): void {
    this.nextDeadline = deadline
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.deadlineTimer = null
    if (deadline === null || this.closed) return
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = null
        this.rejudge()
      },
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - now))
    )
    this.deadlineTimer.unref()
  }

  private recordTransitions(services: readonly JudgedService[], now: number): void {
    const next = new Map<string, { status: Status; instances: Map<string, Status> }>()
    for (const s of services) {
      const before = this.previous.get(s.name)
      const instances = new Map(s.instances.map((i) => [i.id, i.status]))
      next.set(s.name, { status: s.status, instances })
      // Instances first, so that newest-first the service's own line leads.
      if (before) {
        for (const i of s.instances) {
          const was = before.instances.get(i.id)
          if (was !== undefined && was !== i.status) {
            this.history.record({
              at: now,
              service: s.name,
              instance: i.id,
              from: was,
              to: i.status,
              message: i.message,
            })
          }
        }
      }
      if (!before || before.status !== s.status) {
        this.history.record({
          at: now,
          service: s.name,
          instance: null,
          from: before?.status ?? null,
          to: s.status,
          message: s.message,
        })
        if (before) {
          this.log.info(
            { service: s.name, from: before.status, to: s.status, reason: s.message },
            'service status changed'
          )
        }
      }
    }
    for (const name of this.previous.keys()) {
      if (!next.has(name)) {
        this.history.drop(name)
        this.log.info({ service: name }, 'service no longer reported')
      }
    }
    this.previous = next
  }
}

function withHistory(s: JudgedService, since: number, flapping: boolean): ServiceView {
  return {
    name: s.name,
    status: s.status,
    kind: s.kind,
    critical: s.critical,
    message: s.message,
    since: new Date(since).toISOString(),
    flapping,
    dependsOn: s.dependsOn,
    impactedBy: s.impactedBy,
    job: s.job,
    instances: s.instances,
  }
}

function dockerView(d: DockerSourceStatus): HealthDocument['bridge']['sources']['docker'] {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return {
    state: d.state,
    project: d.project,
    lastEventAt: iso(d.lastEventAt),
    unreachableSince: iso(d.unreachableSince),
    detail: d.detail,
  }
}

/**
 * Weak ETag over what a status display draws: statuses, messages, kinds, impact, flapping and
 * the set of services and instances; not lastSeenAt, details or checkedAt. So a poller gets 304
 * until something it would draw is different.
 */
export function etagOf(doc: HealthDocument): string {
  const h = createHash('sha1')
  h.update(`${doc.status}\u0000${doc.bridge.sources.docker.state}\u0000`)
  for (const s of doc.services) hashService(h, s)
  return weakTag(h)
}

/** The same, for `GET /health?service=X`: changes when what is drawn for that service does. */
export function serviceEtagOf(s: ServiceView): string {
  const h = createHash('sha1')
  hashService(h, s)
  return weakTag(h)
}

/** The same, for `GET /health?service=X&instance=Y`. */
export function instanceEtagOf(i: ServiceView['instances'][number]): string {
  const h = createHash('sha1')
  hashInstance(h, i)
  return weakTag(h)
}

function hashService(h: Hash, s: ServiceView): void {
  h.update(
    `${s.name}\u0001${s.status}\u0001${s.kind}\u0001${String(s.critical)}\u0001${s.message}\u0001${String(s.flapping)}\u0001${s.since}\u0001${s.impactedBy.join(',')}\u0001${s.job?.state ?? ''}\u0000`
  )
  for (const i of s.instances) hashInstance(h, i)
}

function hashInstance(h: Hash, i: ServiceView['instances'][number]): void {
  h.update(`${i.id}\u0002${i.status}\u0002${i.message}\u0000`)
}

function weakTag(h: Hash): string {
  return `W/"${h.digest('base64url').slice(0, 27)}"`
}
