/**
 * Judging one service: its settings, its instances (containers and heartbeats, matched and
 * merged), its roll-up, and the instant at which time alone changes any of that. Pure; the
 * store calls it for the services that changed or fell due, and `judge()` for all of them.
 */
import { clockTime } from './format.js'
import { jobStateOf, judgeContainer, recentRestarts } from './judge-container.js'
import { containerOf, hostnameCounts, remoteOf } from './heartbeat-match.js'
import { forgetAt, judgeHeartbeat, judgeMissingHeartbeat } from './judge-heartbeat.js'
import type { JobJudgement } from './job.js'
import type { JudgedInstance, JudgedService } from './judged.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteInstance, RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import { serviceSettings } from './service-settings.js'
import type { ModelConfig, ServiceSettings } from './settings.js'
import { rank, worstOf, type Status } from './status.js'
import { earliest, verdict, type Verdict } from './verdict.js'

export interface ServiceJudgement {
  /**
   * Null when the service is not reported: ignored, or known only through instances that were
   * just forgotten (it is gone, not "unknown"). `impactedBy` is empty here: impact is the
   * stack's part (`judge-stack.ts`).
   */
  service: JudgedService | null
  /** The earliest instant at which time alone changes this judgement; null if never. */
  until: number | null
  /** Heartbeat instances silent long enough to be dropped. */
  forget: readonly string[]
  /** Every name an instance answers to in `?instance=` (container id, hostname, ...) -> its id. */
  aliases: ReadonlyMap<string, string>
  heartbeatTimeoutMs: number
}

/** The instance's verdict is the worst of its parts; on a tie, the first part speaks. */
function merge(parts: Verdict[]): Verdict {
  let result = parts[0] ?? verdict('unknown', 'no observations')
  for (const p of parts.slice(1)) if (rank(p.status) > rank(result.status)) result = p
  return { ...result, until: earliest(...parts.map((p) => p.until)) }
}

interface Built {
  instance: JudgedInstance
  until: number | null
  /** For jobs: which instance is the most recent run. */
  startedOrSeenAt: number
  job: JobJudgement | null
}

/** The parts every instance of one service is judged with. */
interface Judging {
  settings: ServiceSettings
  ctx: ServiceContext
  now: number
}

function judgeContainerInstance(
  c: ContainerObservation,
  hb: HeartbeatObservation | null,
  j: Judging
): Built {
  const { settings, ctx, now } = j
  const timeoutMs = settings.heartbeatTimeoutMs
  const parts: Verdict[] = [ctx.stale ?? judgeContainer(c, settings, ctx.config, now)]
  let heartbeat: JudgedInstance['heartbeat'] = null
  if (hb) {
    parts.push(judgeHeartbeat(hb, timeoutMs, now))
    heartbeat = { last: hb, timeoutMs, expected: settings.heartbeatExpected }
  } else if (settings.heartbeatExpected && c.state === 'running') {
    const graceStart = Math.max(ctx.bridgeStartedAt, c.startedAt ?? 0)
    parts.push(judgeMissingHeartbeat(graceStart, ctx.config.startupGraceMs, now))
    heartbeat = { last: null, timeoutMs, expected: true }
  }
  const v = merge(parts)
  let job: JobJudgement | null = null
  if (settings.kind === 'job') {
    job = { state: ctx.stale ? 'unknown' : jobStateOf(c), exitCode: c.exitCode }
  }
  // The instance shows its recent restarts: the count changes when one ages out, whatever state.
  const restarts = recentRestarts(c, ctx.config, now)
  return {
    instance: {
      id: c.name,
      host: ctx.config.bridgeName,
      status: v.status,
      message: v.message,
      container: c,
      recentRestarts: restarts.count,
      heartbeat,
      remote: null,
    },
    until: earliest(v.until, restarts.agesOutAt),
    startedOrSeenAt: c.createdAt ?? c.startedAt ?? 0,
    job,
  }
}

/** A job's own report of its end, or `running` while it reports without one. */
function jobStateOfReport(hb: HeartbeatObservation): JobJudgement['state'] {
  if (hb.reported === 'succeeded' || hb.reported === 'failed') return hb.reported
  return 'running'
}

/** A heartbeat that matched no container: an instance of its own. */
function judgeReportedInstance(hb: HeartbeatObservation, j: Judging): Verdict {
  const v = judgeHeartbeat(hb, j.settings.heartbeatTimeoutMs, j.now)
  // A job that reports without a final status is still running.
  if (j.settings.kind === 'job' && v.status === 'healthy' && hb.reported === 'healthy') {
    return verdict('starting', 'running', v.until)
  }
  return v
}

function judgeHeartbeatInstance(
  hb: HeartbeatObservation,
  j: Judging,
  forgetUntil: number | null
): Built {
  const v = judgeReportedInstance(hb, j)
  return {
    instance: {
      id: hb.instance,
      host: j.ctx.config.bridgeName,
      status: v.status,
      message: v.message,
      container: null,
      recentRestarts: 0,
      heartbeat: {
        last: hb,
        timeoutMs: j.settings.heartbeatTimeoutMs,
        expected: j.settings.heartbeatExpected,
      },
      remote: null,
    },
    until: earliest(v.until, forgetUntil),
    startedOrSeenAt: hb.receivedAt,
    job: j.settings.kind === 'job' ? { state: jobStateOfReport(hb), exitCode: null } : null,
  }
}

function judgeRemoteInstance(
  i: RemoteInstance,
  r: RemoteService,
  hb: HeartbeatObservation | null,
  j: Judging
): Built {
  const parts: Verdict[] = [
    r.lostSince === null
      ? verdict(i.status, i.message)
      : verdict('unknown', `host ${r.peer} unreachable since ${clockTime(r.lostSince)}`),
  ]
  if (hb) parts.push(judgeHeartbeat(hb, j.settings.heartbeatTimeoutMs, j.now))
  const v = merge(parts)
  const job = i.job && (r.lostSince === null ? i.job : { ...i.job, state: 'unknown' as const })
  return {
    instance: {
      id: i.id,
      host: i.host,
      status: v.status,
      message: v.message,
      container: null,
      recentRestarts: 0,
      heartbeat: hb
        ? {
            last: hb,
            timeoutMs: j.settings.heartbeatTimeoutMs,
            expected: j.settings.heartbeatExpected,
          }
        : null,
      remote: i,
    },
    until: v.until,
    startedOrSeenAt: i.recency,
    job: j.settings.kind === 'job' ? (job ?? { state: 'running', exitCode: null }) : null,
  }
}

function byId(a: Built, b: Built): number {
  const x = a.instance.id
  const y = b.instance.id
  return x < y ? -1 : x > y ? 1 : 0
}

function buildInstances(
  containers: readonly ContainerObservation[],
  heartbeats: readonly HeartbeatObservation[],
  remotes: readonly RemoteService[],
  j: Judging,
  aliases: Map<string, string>,
  forget: string[]
): Built[] {
  const hostnames = hostnameCounts(containers)
  const matched = new Map<string, HeartbeatObservation>()
  const unmatched: HeartbeatObservation[] = []
  for (const hb of heartbeats) {
    const c = containerOf(hb, containers, hostnames)
    const target = c?.id ?? remoteOf(hb, remotes)?.id
    if (target === undefined) {
      unmatched.push(hb)
      continue
    }
    aliases.set(hb.instance, c?.name ?? target)
    const prev = matched.get(target)
    if (!prev || hb.receivedAt > prev.receivedAt) matched.set(target, hb)
  }
  const built: Built[] = []
  for (const c of containers) {
    for (const alias of [c.name, c.id, c.hostname]) if (alias) aliases.set(alias, c.name)
    built.push(judgeContainerInstance(c, matched.get(c.id) ?? null, j))
  }
  for (const r of remotes) {
    for (const i of r.instances) {
      aliases.set(i.id, i.id)
      built.push(judgeRemoteInstance(i, r, matched.get(i.id) ?? null, j))
    }
  }
  for (const hb of unmatched) {
    const until = forgetAt(hb, j.settings.heartbeatTimeoutMs)
    if (until !== null && j.now >= until) {
      forget.push(hb.instance)
      continue
    }
    aliases.set(hb.instance, hb.instance)
    built.push(judgeHeartbeatInstance(hb, j, until))
  }
  return built.sort(byId)
}

function rollUpService(instances: readonly JudgedInstance[]): Verdict {
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

/**
 * Whether the configuration says the service must exist. One marked `optional` (disabled with
 * `replicas: 0`, or placed on another host) is reported only while something of it is seen.
 */
function declared(name: string, config: ModelConfig): boolean {
  const file = config.services[name]
  return file !== undefined && file.optional !== true
}

/** A service with no instance: expected heartbeats, a missing container, or nothing to go on. */
function judgeEmptyService(settings: ServiceSettings, ctx: ServiceContext, now: number): Verdict {
  if (settings.heartbeatExpected) {
    return judgeMissingHeartbeat(ctx.bridgeStartedAt, ctx.config.startupGraceMs, now)
  }
  if (ctx.docker.state !== 'disabled') {
    if (ctx.stale) return ctx.stale
    if (!ctx.docker.synced) return verdict('starting', 'waiting for the first Docker sync')
    return verdict(
      'unhealthy',
      `no container in compose project ${ctx.docker.project ?? ''}`.trimEnd()
    )
  }
  return verdict('unknown', 'not observed: no container source, and no heartbeat expected')
}

/** A service no host has an instance of: what this host and the peers say about it. */
function judgeEmpty(
  name: string,
  containers: readonly ContainerObservation[],
  remotes: readonly RemoteService[],
  settings: ServiceSettings,
  ctx: ServiceContext,
  now: number
): Verdict {
  const local = containers.length > 0 || declared(name, ctx.config) || remotes.length === 0
  let v = local ? judgeEmptyService(settings, ctx, now) : null
  for (const r of remotes) {
    const rv =
      r.lostSince === null
        ? verdict(r.status, r.message)
        : verdict('unknown', `host ${r.peer} unreachable since ${clockTime(r.lostSince)}`)
    if (v === null || rank(rv.status) > rank(v.status)) v = { ...rv, until: v?.until ?? null }
  }
  return v ?? verdict('unknown', 'not observed')
}

/**
 * One service, from its own containers (one-off containers already left out) and heartbeats,
 * and on a hub what its peers report of it.
 */
export function judgeService(
  name: string,
  containers: readonly ContainerObservation[],
  heartbeats: readonly HeartbeatObservation[],
  ctx: ServiceContext,
  now: number,
  remotes: readonly RemoteService[] = []
): ServiceJudgement {
  const settings = serviceSettings(name, containers, ctx, remotes)
  const aliases = new Map<string, string>()
  const forget: string[] = []
  const timeoutMs = settings.heartbeatTimeoutMs
  const none = { service: null, until: null, forget, aliases, heartbeatTimeoutMs: timeoutMs }
  if (settings.ignored) return none
  const j: Judging = { settings, ctx, now }
  const built = buildInstances(containers, heartbeats, remotes, j, aliases, forget)
  if (
    built.length === 0 &&
    containers.length === 0 &&
    remotes.length === 0 &&
    !declared(name, ctx.config)
  ) {
    return none
  }
  let until = earliest(...built.map((b) => b.until))
  let v: Verdict
  let job: JobJudgement | null = null
  if (built.length === 0) {
    v = judgeEmpty(name, containers, remotes, settings, ctx, now)
    until = earliest(until, v.until)
    if (settings.kind === 'job') {
      job = { state: v.status === 'unknown' ? 'unknown' : 'pending', exitCode: null }
    }
  } else if (settings.kind === 'job') {
    // A job's status is the status of its most recent run.
    const latest = built.reduce((a, b) => (b.startedOrSeenAt > a.startedOrSeenAt ? b : a))
    v = verdict(latest.instance.status, latest.instance.message)
    job = latest.job
  } else {
    v = rollUpService(built.map((b) => b.instance))
  }
  return {
    service: {
      name,
      status: v.status,
      kind: settings.kind,
      critical: settings.critical,
      message: v.message,
      dependsOn: settings.dependsOn,
      impactedBy: [],
      job,
      instances: built.map((b) => b.instance),
    },
    until,
    forget,
    aliases,
    heartbeatTimeoutMs: timeoutMs,
  }
}

/**
 * The status of the instance a just-received heartbeat belongs to, by the same rules the
 * document uses (matched with its container and merged, or an instance of its own), so the
 * `202` answer agrees with what `GET /health` says about that instance.
 */
export function judgeReport(
  hb: HeartbeatObservation,
  containers: readonly ContainerObservation[],
  settings: ServiceSettings,
  ctx: ServiceContext,
  now: number
): Verdict {
  const j: Judging = { settings, ctx, now }
  const c = containerOf(hb, containers, hostnameCounts(containers))
  if (!c) return judgeReportedInstance(hb, j)
  const built = judgeContainerInstance(c, hb, j)
  return verdict(built.instance.status, built.instance.message, built.until)
}
