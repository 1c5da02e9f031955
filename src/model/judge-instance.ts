/**
 * Judging one instance from its parts: a container with the heartbeat that speaks for it, a
 * heartbeat of its own, or on a hub an instance a peer reports (with a heartbeat sent to the
 * hub for it). The instance's verdict is the worst of its parts.
 */
import { clockTime } from './format.js'
import { jobStateOf, judgeContainer, recentRestarts } from './judge-container.js'
import { judgeHeartbeat, judgeMissingHeartbeat } from './judge-heartbeat.js'
import type { JobJudgement } from './job.js'
import type { JudgedInstance } from './judged.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteInstance, RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import type { ServiceSettings } from './settings.js'
import { rank, type Status } from './status.js'
import { earliest, verdict, type Verdict } from './verdict.js'

/** The parts every instance of one service is judged with. */
export interface Judging {
  settings: ServiceSettings
  ctx: ServiceContext
  now: number
}

/** One judged instance, with what its service's roll-up needs besides. */
export interface BuiltInstance {
  instance: JudgedInstance
  until: number | null
  /** For jobs: which instance is the most recent run. */
  startedOrSeenAt: number
  job: JobJudgement | null
}

/** The instance's verdict is the worst of its parts; on a tie, the first part speaks. */
function merge(parts: Verdict[]): Verdict {
  let result = parts[0] ?? verdict('unknown', 'no observations')
  for (const p of parts.slice(1)) if (rank(p.status) > rank(result.status)) result = p
  return { ...result, until: earliest(...parts.map((p) => p.until)) }
}

/** What a peer said of something, or `unknown` once the peer is lost. */
export function remoteVerdict(
  r: RemoteService,
  said: { status: Status; message: string }
): Verdict {
  return r.lostSince === null
    ? verdict(said.status, said.message)
    : verdict('unknown', `host ${r.peer} unreachable since ${clockTime(r.lostSince)}`)
}

export function judgeContainerInstance(
  c: ContainerObservation,
  hb: HeartbeatObservation | null,
  j: Judging
): BuiltInstance {
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
export function judgeReportedInstance(hb: HeartbeatObservation, j: Judging): Verdict {
  const v = judgeHeartbeat(hb, j.settings.heartbeatTimeoutMs, j.now)
  // A job that reports without a final status is still running.
  if (j.settings.kind === 'job' && v.status === 'healthy' && hb.reported === 'healthy') {
    return verdict('starting', 'running', v.until)
  }
  return v
}

export function judgeHeartbeatInstance(
  hb: HeartbeatObservation,
  j: Judging,
  forgetUntil: number | null
): BuiltInstance {
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

export function judgeRemoteInstance(
  i: RemoteInstance,
  r: RemoteService,
  hb: HeartbeatObservation | null,
  j: Judging
): BuiltInstance {
  const parts: Verdict[] = [remoteVerdict(r, i)]
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
