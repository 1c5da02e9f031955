/**
 * `GET /metrics`: Prometheus text format from prom-client, on a registry of this app's own (not
 * prom-client's global one), so two bridges in one process (tests) never share counters.
 *
 * Statuses are read from the store's current document at scrape time, so a scrape shows exactly
 * what `GET /health` serves and the store needs no hooks. Counters are fed by the few places
 * that see the events: the heartbeat route, the HTTP middleware and the Docker source (through
 * `DockerSourceEvents`, the port the source owns in `sources/source.ts`).
 *
 * Every label value comes from a closed list or from a service/instance the store already
 * tracks (bounded by the project and MAX_INSTANCES), never from raw request input.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

import type { Clock } from '../clock.js'
import type { DockerState } from '../model/observations.js'
import { STATUSES } from '../model/status.js'
import type { DockerSourceEvents } from '../sources/source.js'
import type { HealthStore } from '../store/health-store.js'
import type { InstanceView } from '../wire/health-document.js'

export const HEARTBEAT_REJECT_REASONS = [
  'invalid_json',
  'invalid_schema',
  'too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'too_many_instances',
  'internal_error',
] as const
export type HeartbeatRejectReason = (typeof HEARTBEAT_REJECT_REASONS)[number]

/** What the heartbeat route reports: one call per POST /health. */
export interface HeartbeatMetrics {
  accepted(): void
  rejected(reason: HeartbeatRejectReason): void
}

// Keyed by DockerState, so a state added there fails to compile here until it is listed.
const DOCKER_STATES = Object.keys({
  disabled: true,
  connecting: true,
  syncing: true,
  following: true,
  disconnected: true,
} satisfies Record<DockerState, true>)

/** Methods we serve; anything else is `other`. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'])

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other'
}

export function statusClassLabel(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other'
}

/** Histogram buckets (seconds) for request durations: the interesting range is 0.1-50 ms. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export interface Metrics {
  readonly registry: Registry
  readonly heartbeats: HeartbeatMetrics
  readonly docker: DockerSourceEvents
  /** Records one answered HTTP request; `route` is the matched pattern, never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void
  /** The exposition text: this app's metrics, then the process-wide default ones. */
  render(): Promise<string>
  readonly contentType: string
}

export interface MetricsDeps {
  store: HealthStore
  clock: Clock
  /** Include Node's default process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const { store, clock } = deps
  const registry = new Registry()
  const registers = [registry]
  /** Every instance of every service in the current document, for the per-instance gauges. */
  const eachInstance = (fn: (service: string, instance: InstanceView) => void) => {
    for (const svc of store.current().doc.services)
      for (const inst of svc.instances) fn(svc.name, inst)
  }

  new Gauge({
    name: 'health_bridge_status',
    help: 'Overall status of the stack: 1 for the current status, 0 for the others',
    labelNames: ['status'],
    registers,
    collect() {
      const status = store.current().doc.status
      for (const s of STATUSES) this.set({ status: s }, s === status ? 1 : 0)
    },
  })

  new Gauge({
    name: 'health_bridge_service_status',
    help: 'Status of each service: 1 for its current status, 0 for the others',
    labelNames: ['service', 'status'],
    registers,
    collect() {
      // Reset first: a service that is no longer reported must disappear, not freeze.
      this.reset()
      for (const svc of store.current().doc.services) {
        for (const s of STATUSES)
          this.set({ service: svc.name, status: s }, s === svc.status ? 1 : 0)
      }
    },
  })

  new Gauge({
    name: 'health_bridge_instance_status',
    help: 'Status of each instance of each service: 1 for its current status, 0 for the others',
    labelNames: ['service', 'instance', 'status'],
    registers,
    collect() {
      this.reset()
      eachInstance((service, inst) => {
        for (const s of STATUSES)
          this.set({ service, instance: inst.id, status: s }, s === inst.status ? 1 : 0)
      })
    },
  })

  new Gauge({
    name: 'health_bridge_heartbeat_last_seen_timestamp_seconds',
    help: 'When the last heartbeat of an instance arrived (Unix time; may lag up to 1 s)',
    labelNames: ['service', 'instance'],
    registers,
    collect() {
      this.reset()
      eachInstance((service, inst) => {
        const seen = inst.heartbeat?.lastSeenAt
        if (seen) this.set({ service, instance: inst.id }, Date.parse(seen) / 1000)
      })
    },
  })

  new Gauge({
    name: 'health_bridge_container_restarts',
    help: 'Restart count of the container behind an instance, as the engine reports it',
    labelNames: ['service', 'instance'],
    registers,
    collect() {
      this.reset()
      eachInstance((service, inst) => {
        if (inst.docker) this.set({ service, instance: inst.id }, inst.docker.restartCount)
      })
    },
  })

  new Gauge({
    name: 'health_bridge_heartbeat_instances',
    help: 'Heartbeat instances tracked (capped by MAX_INSTANCES)',
    registers,
    collect() {
      this.set(store.heartbeatInstances())
    },
  })

  const accepted = new Counter({
    name: 'health_bridge_heartbeats_accepted_total',
    help: 'Heartbeats accepted (202)',
    registers,
  })
  const rejected = new Counter({
    name: 'health_bridge_heartbeats_rejected_total',
    help: 'Heartbeats rejected, by reason',
    labelNames: ['reason'],
    registers,
  })
  // Every reason from zero, so rate() and alerts work before the first rejection.
  for (const reason of HEARTBEAT_REJECT_REASONS) rejected.inc({ reason }, 0)

  new Gauge({
    name: 'health_bridge_docker_state',
    help: 'State of the Docker source: 1 for the current state, 0 for the others',
    labelNames: ['state'],
    registers,
    collect() {
      const state = store.dockerStatus().state
      for (const s of DOCKER_STATES) this.set({ state: s }, s === state ? 1 : 0)
    },
  })

  new Gauge({
    name: 'health_bridge_docker_seconds_since_last_event',
    help: 'Seconds since the last event from the Docker engine for the watched project (absent until the first; an idle stack sends none)',
    // One value at most (the watched project); a label so the series can be absent.
    labelNames: ['project'],
    registers,
    collect() {
      this.reset()
      const docker = store.dockerStatus()
      if (docker.lastEventAt !== null) {
        this.set(
          { project: docker.project ?? '' },
          Math.max(0, clock.now() - docker.lastEventAt) / 1000
        )
      }
    },
  })

  const dockerEvents = new Counter({
    name: 'health_bridge_docker_events_total',
    help: 'Container events received from the Docker engine, by action',
    labelNames: ['action'],
    registers,
  })
  const reconnects = new Counter({
    name: 'health_bridge_docker_stream_reconnects_total',
    help: 'Times the Docker events stream was re-established after it ended or failed',
    registers,
  })

  const stalls = new Counter({
    name: 'health_bridge_docker_stream_stalls_total',
    help: 'Times the Docker events stream stalled without closing (the reconciliation saw changes no event reported) and was reopened',
    registers,
  })

  const requests = new Histogram({
    name: 'health_bridge_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until the response head; a stream counts until it opens)',
    labelNames: ['method', 'route', 'status_class'],
    buckets: DURATION_BUCKETS,
    registers,
  })

  const requestChildren = new Map<string, Histogram.Internal<'method' | 'route' | 'status_class'>>()

  const processMetrics = deps.processMetrics ?? true
  return {
    registry,
    contentType: registry.contentType,
    heartbeats: {
      accepted: () => {
        accepted.inc()
      },
      rejected: (reason) => {
        rejected.inc({ reason })
      },
    },
    docker: {
      // The action comes from the parser's closed list (events.ts), so the label set is bounded.
      eventReceived: (action) => {
        dockerEvents.inc({ action })
      },
      streamReconnected: () => {
        reconnects.inc()
      },
      streamStalled: () => {
        stalls.inc()
      },
    },
    observeRequest(method, route, status, seconds) {
      // One child per label set, looked up by a plain key: prom-client's own label hashing was
      // the larger part of a small answer's metrics cost. The sets are bounded (see the labels).
      const methodName = methodLabel(method)
      const key = `${methodName}\u0000${route}\u0000${String(status)}`
      let child = requestChildren.get(key)
      if (!child) {
        child = requests.labels({
          method: methodName,
          route,
          status_class: statusClassLabel(status),
        })
        requestChildren.set(key, child)
      }
      child.observe(seconds)
    },
    async render() {
      const own = await registry.metrics()
      return processMetrics ? own + (await processRegistry().metrics()) : own
    },
  }
}

let shared: Registry | null = null
/**
 * Node's default metrics describe the process, not an app, and prom-client cannot stop their
 * collectors (GC observer, event-loop monitor): one registry for the process, created on first use.
 */
function processRegistry(): Registry {
  if (shared === null) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
  }
  return shared
}
