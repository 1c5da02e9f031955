/**
 * A service's own verdict: rolled up from its instances, or, when no host has an instance of
 * it, what its settings expect (heartbeats, a container) and what the peers say of it.
 */
import type { JobJudgement } from './job.js'
import type { JudgedInstance } from './judged.js'
import { judgeMissingHeartbeat } from './judge-heartbeat.js'
import { remoteVerdict, type BuiltInstance } from './judge-instance.js'
import type { ContainerObservation } from './observations.js'
import type { RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import { declared, type ServiceSettings } from './settings.js'
import { rank, worstOf, type Status } from './status.js'
import { verdict, type Verdict } from './verdict.js'

/** Several instances of a long-running service: all healthy, some starting, or how many are not. */
function rollUpInstances(instances: readonly JudgedInstance[]): Verdict {
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
    const rv = remoteVerdict(r, r)
    if (v === null || rank(rv.status) > rank(v.status)) v = { ...rv, until: v?.until ?? null }
  }
  return v ?? verdict('unknown', 'not observed')
}

/**
 * The service's verdict and, for a job, its state. A job's status is the status of its most
 * recent run; a long-running service's is rolled up from every instance.
 */
export function rollUpService(
  name: string,
  built: readonly BuiltInstance[],
  containers: readonly ContainerObservation[],
  remotes: readonly RemoteService[],
  settings: ServiceSettings,
  ctx: ServiceContext,
  now: number
): { verdict: Verdict; job: JobJudgement | null } {
  const isJob = settings.kind === 'job'
  if (built.length === 0) {
    const v = judgeEmpty(name, containers, remotes, settings, ctx, now)
    const state = v.status === 'unknown' ? 'unknown' : 'pending'
    const job: JobJudgement | null = isJob ? { state, exitCode: null } : null
    return { verdict: v, job }
  }
  if (isJob) {
    const latest = built.reduce((a, b) => (b.startedOrSeenAt > a.startedOrSeenAt ? b : a))
    return { verdict: verdict(latest.instance.status, latest.instance.message), job: latest.job }
  }
  return { verdict: rollUpInstances(built.map((b) => b.instance)), job: null }
}
