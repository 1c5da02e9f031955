/**
 * The status model: a pure function of (observations, config, now). Everything the contract's
 * tables say about instances, services, the whole stack and `impactedBy` happens here, and
 * nowhere else. It also says when its answer will next change by time alone (`nextDeadline`).
 */
import type {
  DockerPart,
  HeartbeatPart,
  InstanceView,
  JobView,
  ServiceView,
} from '../wire/health-document.js'

import { dockerStaleness, jobStateOf, judgeContainer, recentRestarts } from './judge-container.js'
import { forgetAt, judgeHeartbeat, judgeMissingHeartbeat } from './judge-heartbeat.js'
import type {
  ContainerObservation,
  DockerSourceStatus,
  HeartbeatObservation,
} from './observations.js'
import {
  resolveServiceSettings,
  servicesAwaitedAsJobs,
  type ModelConfig,
  type ServiceSettings,
} from './settings.js'
import { rank, worse, worstOf, type Status } from './status.js'
import { earliest, verdict, type Verdict } from './verdict.js'

export interface Observations {
  containers: Iterable<ContainerObservation>
  heartbeats: Iterable<HeartbeatObservation>
  docker: DockerSourceStatus
  bridgeStartedAt: number
}

/** A service as judged; the store adds what only history knows (`since`, `flapping`). */
export type JudgedService = Omit<ServiceView, 'since' | 'flapping'>

export interface Judgement {
  status: Status
  services: JudgedService[]
  /** The earliest instant at which time alone changes this judgement; null if never. */
  nextDeadline: number | null
  /** Heartbeat keys (`service/instance`) of instances silent long enough to be dropped. */
  forget: string[]
  /** Per service: every name an instance answers to in `?instance=` (container id, hostname, ...). */
  aliases: Map<string, Map<string, string>>
  /** Per reported service: its heartbeat timeout (file, then labels, then HEARTBEAT_TIMEOUT). */
  heartbeatTimeouts: Map<string, number>
}

export function heartbeatKey(service: string, instance: string): string {
  return `${service}/${instance}`
}

const MIN_ID_PREFIX = 12

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/** The contract's matching rule: id (or a 12+ character prefix), name, or a hostname unique in the service. */
export function matches(
  instance: string,
  c: ContainerObservation,
  hostnameUnique: boolean
): boolean {
  return (
    instance === c.id ||
    (instance.length >= MIN_ID_PREFIX && c.id.startsWith(instance)) ||
    instance === c.name ||
    (hostnameUnique && instance === c.hostname)
  )
}

function dockerPart(c: ContainerObservation, config: ModelConfig, now: number): DockerPart {
  return {
    containerId: c.id,
    name: c.name,
    state: c.state,
    health: c.health,
    failingStreak: c.failingStreak,
    exitCode: c.exitCode,
    oomKilled: c.oomKilled,
    restartCount: c.restartCount,
    recentRestarts: recentRestarts(c, config, now).count,
    startedAt: iso(c.startedAt),
    finishedAt: iso(c.finishedAt),
    lastProbeOutput: c.lastProbeOutput,
  }
}

function heartbeatPart(hb: HeartbeatObservation | null, timeoutMs: number): HeartbeatPart {
  return {
    expected: hb === null,
    lastSeenAt: hb === null ? null : iso(hb.receivedAt),
    timeoutSeconds: timeoutMs / 1000,
    reported: hb?.reported ?? null,
    error: hb?.error ?? null,
    details: hb?.details ?? null,
    clockSkewSeconds: hb?.clockSkewSeconds ?? null,
  }
}

/** The instance's verdict is the worst of its parts; on a tie, the first part speaks. */
function merge(parts: Verdict[]): Verdict {
  let result = parts[0] ?? verdict('unknown', 'no observations')
  for (const p of parts.slice(1)) if (rank(p.status) > rank(result.status)) result = p
  return { ...result, until: earliest(...parts.map((p) => p.until)) }
}

interface Built {
  view: InstanceView
  until: number | null
  /** For jobs: which instance is the most recent run. */
  recency: number
  job: JobView | null
}

function rollUpService(instances: readonly InstanceView[]): Verdict {
  const n = instances.length
  const only = instances[0]
  if (n === 1 && only) return verdict(only.status, only.message)
  const count = (pred: (s: Status) => boolean) => instances.filter((i) => pred(i.status)).length
  const bad = (s: Status) => s === 'unhealthy' || s === 'unknown'
  const healthy = count((s) => s === 'healthy')
  const broken = count(bad)
  const starting = count((s) => s === 'starting')
  if (healthy === n) return verdict('healthy', `all ${n} instances healthy`)
  const firstOf = (pred: (s: Status) => boolean) => instances.find((i) => pred(i.status))
  if (broken === 0 && starting > 0) {
    return verdict(
      'starting',
      `${starting} of ${n} instances starting: ${firstOf((s) => s === 'starting')?.message ?? ''}`
    )
  }
  const worst = worstOf(instances.map((i) => i.status))
  const example = firstOf((s) => s === worst)?.message ?? ''
  if (healthy > 0 && broken > 0) {
    return verdict('degraded', `${broken} of ${n} instances ${worst}: ${example}`)
  }
  return verdict(worst, `${count((s) => s === worst)} of ${n} instances ${worst}: ${example}`)
}

function overallOf(services: readonly JudgedService[], dockerPending: boolean): Status {
  let status: Status = 'healthy'
  if (services.some((s) => s.critical && s.status === 'unhealthy')) status = 'unhealthy'
  else if (
    services.some(
      (s) =>
        s.status === 'degraded' ||
        s.status === 'unknown' ||
        (!s.critical && s.status === 'unhealthy')
    )
  )
    status = 'degraded'
  else if (services.some((s) => s.status === 'starting')) status = 'starting'
  // Before the first Docker sync the picture is incomplete: never claim healthy from half of it.
  return dockerPending ? worse(status, 'starting') : status
}

/** Unhealthy services that `name` depends on, directly or transitively. */
function impactOf(name: string, byName: ReadonlyMap<string, JudgedService>): string[] {
  const seen = new Set<string>([name])
  const impacted = new Set<string>()
  const queue = [...(byName.get(name)?.dependsOn ?? [])]
  for (let dep = queue.shift(); dep !== undefined; dep = queue.shift()) {
    if (seen.has(dep)) continue
    seen.add(dep)
    const svc = byName.get(dep)
    if (!svc) continue
    if (svc.status === 'unhealthy') impacted.add(dep)
    queue.push(...svc.dependsOn)
  }
  return [...impacted].sort()
}

export function judge(obs: Observations, config: ModelConfig, now: number): Judgement {
  const dockerEnabled = obs.docker.state !== 'disabled'
  const staleness = dockerStaleness(obs.docker, config, now)
  let nextDeadline = staleness.until
  const deadline = (t: number | null) => {
    nextDeadline = earliest(nextDeadline, t)
  }

  const containersByService = new Map<string, ContainerObservation[]>()
  const allContainers: ContainerObservation[] = []
  for (const c of obs.containers) {
    if (c.oneoff) continue
    allContainers.push(c)
    const list = containersByService.get(c.service)
    if (list) list.push(c)
    else containersByService.set(c.service, [c])
  }
  const heartbeatsByService = new Map<string, HeartbeatObservation[]>()
  for (const hb of obs.heartbeats) {
    const list = heartbeatsByService.get(hb.service)
    if (list) list.push(hb)
    else heartbeatsByService.set(hb.service, [hb])
  }
  const names = new Set<string>([
    ...containersByService.keys(),
    ...heartbeatsByService.keys(),
    ...Object.keys(config.services),
  ])
  const awaited = servicesAwaitedAsJobs(allContainers)
  const forget: string[] = []
  const aliases = new Map<string, Map<string, string>>()
  const services: JudgedService[] = []
  const heartbeatTimeouts = new Map<string, number>()

  for (const name of [...names].sort()) {
    const containers = containersByService.get(name) ?? []
    const settings = resolveServiceSettings(name, containers, awaited, config, dockerEnabled)
    if (settings.ignored) continue
    heartbeatTimeouts.set(name, settings.heartbeatTimeoutMs)
    const heartbeats = heartbeatsByService.get(name) ?? []
    const names = new Map<string, string>()
    aliases.set(name, names)
    const built = buildInstances(
      name,
      containers,
      heartbeats,
      settings,
      obs,
      config,
      now,
      staleness.stale,
      forget,
      names
    )
    // A service known only through instances that were just forgotten is gone, not "unknown".
    if (built.length === 0 && containers.length === 0 && config.services[name] === undefined)
      continue
    for (const b of built) deadline(b.until)

    let v: Verdict
    let job: JobView | null = null
    if (built.length === 0) {
      v = judgeEmptyService(settings, obs, config, now, staleness.stale)
      deadline(v.until)
      if (settings.kind === 'job')
        job = { state: v.status === 'unknown' ? 'unknown' : 'pending', exitCode: null }
    } else if (settings.kind === 'job') {
      // A job's status is the status of its most recent run.
      const latest = built.reduce((a, b) => (b.recency > a.recency ? b : a))
      v = verdict(latest.view.status, latest.view.message)
      job = latest.job
    } else {
      v = rollUpService(built.map((b) => b.view))
    }
    services.push({
      name,
      status: v.status,
      kind: settings.kind,
      critical: settings.critical,
      message: v.message,
      dependsOn: settings.dependsOn,
      impactedBy: [],
      job,
      instances: built.map((b) => b.view),
    })
  }

  const byName = new Map(services.map((s) => [s.name, s]))
  for (const s of services) s.impactedBy = impactOf(s.name, byName)
  const dockerPending = dockerEnabled && !obs.docker.synced
  return {
    status: overallOf(services, dockerPending),
    services,
    nextDeadline,
    forget,
    aliases,
    heartbeatTimeouts,
  }
}

function judgeEmptyService(
  settings: ServiceSettings,
  obs: Observations,
  config: ModelConfig,
  now: number,
  stale: Verdict | null
): Verdict {
  if (settings.heartbeatExpected)
    return judgeMissingHeartbeat(obs.bridgeStartedAt, config.startupGraceMs, now)
  if (obs.docker.state !== 'disabled') {
    if (stale) return stale
    if (!obs.docker.synced) return verdict('starting', 'waiting for the first Docker sync')
    return verdict(
      'unhealthy',
      `no container in compose project ${obs.docker.project ?? ''}`.trimEnd()
    )
  }
  return verdict('unknown', 'not observed: no container source, and no heartbeat expected')
}

function buildInstances(
  service: string,
  containers: readonly ContainerObservation[],
  heartbeats: readonly HeartbeatObservation[],
  settings: ServiceSettings,
  obs: Observations,
  config: ModelConfig,
  now: number,
  stale: Verdict | null,
  forget: string[],
  names: Map<string, string>
): Built[] {
  const hostnames = new Map<string, number>()
  for (const c of containers)
    if (c.hostname) hostnames.set(c.hostname, (hostnames.get(c.hostname) ?? 0) + 1)
  const matched = new Map<string, HeartbeatObservation>()
  const unmatched: HeartbeatObservation[] = []
  const onlyContainer = containers.length === 1 ? containers[0] : undefined
  for (const hb of heartbeats) {
    const c =
      containers.find((c) =>
        matches(hb.instance, c, c.hostname !== null && hostnames.get(c.hostname) === 1)
      ) ??
      // A sender that does not name its instance speaks for the service's only container.
      (hb.instance === 'default' ? onlyContainer : undefined)
    if (!c) {
      unmatched.push(hb)
      continue
    }
    names.set(hb.instance, c.name)
    const prev = matched.get(c.id)
    if (!prev || hb.receivedAt > prev.receivedAt) matched.set(c.id, hb)
  }

  const built: Built[] = []
  const timeout = settings.heartbeatTimeoutMs
  for (const c of containers) {
    for (const alias of [c.name, c.id, c.hostname]) if (alias) names.set(alias, c.name)
    const parts: Verdict[] = [stale ?? judgeContainer(c, settings, config, now)]
    const hb = matched.get(c.id) ?? null
    let hbView: HeartbeatPart | null = null
    if (hb) {
      parts.push(judgeHeartbeat(hb, timeout, now))
      hbView = heartbeatPart(hb, timeout)
    } else if (settings.heartbeatExpected && c.state === 'running') {
      parts.push(
        judgeMissingHeartbeat(
          Math.max(obs.bridgeStartedAt, c.startedAt ?? 0),
          config.startupGraceMs,
          now
        )
      )
      hbView = heartbeatPart(null, timeout)
    }
    const v = merge(parts)
    let job: JobView | null = null
    if (settings.kind === 'job') {
      job = stale
        ? { state: 'unknown', exitCode: c.exitCode }
        : { state: jobStateOf(c), exitCode: c.exitCode }
    }
    built.push({
      view: {
        id: c.name,
        host: config.bridgeName,
        status: v.status,
        message: v.message,
        docker: dockerPart(c, config, now),
        heartbeat: hbView,
      },
      until: v.until,
      recency: c.createdAt ?? c.startedAt ?? 0,
      job,
    })
  }
  for (const hb of unmatched) {
    const until = forgetAt(hb, timeout)
    if (until !== null && now >= until) {
      forget.push(heartbeatKey(service, hb.instance))
      continue
    }
    let v = judgeHeartbeat(hb, timeout, now)
    // A job that reports without a final status is still running.
    if (settings.kind === 'job' && v.status === 'healthy' && hb.reported === 'healthy') {
      v = verdict('starting', 'running', v.until)
    }
    names.set(hb.instance, hb.instance)
    built.push({
      view: {
        id: hb.instance,
        host: config.bridgeName,
        status: v.status,
        message: v.message,
        docker: null,
        heartbeat: heartbeatPart(hb, timeout),
      },
      until: earliest(v.until, until),
      recency: hb.receivedAt,
      job:
        settings.kind === 'job'
          ? {
              state:
                hb.reported === 'succeeded'
                  ? 'succeeded'
                  : hb.reported === 'failed'
                    ? 'failed'
                    : 'running',
              exitCode: null,
            }
          : null,
    })
  }
  built.sort((a, b) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0))
  return built
}
