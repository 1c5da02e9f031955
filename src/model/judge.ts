/**
 * The status model as one pure function of (observations, config, now): every service judged
 * (`judge-service.ts`), then the stack (`judge-stack.ts`). The store does the same work
 * incrementally, one service at a time; this composition is the from-scratch reference its
 * tests compare it with, and what the model's table-driven tests drive.
 */
import { dockerStaleness } from './judge-container.js'
import { judgeService } from './judge-service.js'
import { impactOf, overallStatus } from './judge-stack.js'
import type { JudgedService } from './judged.js'
import type {
  ContainerObservation,
  DockerSourceStatus,
  HeartbeatObservation,
} from './observations.js'
import type { RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import { servicesAwaitedAsJobs, type ModelConfig } from './settings.js'
import type { Status } from './status.js'
import { earliest } from './verdict.js'

export interface Observations {
  containers: Iterable<ContainerObservation>
  heartbeats: Iterable<HeartbeatObservation>
  docker: DockerSourceStatus
  bridgeStartedAt: number
  /** On a hub: per service, what the peers report of it. */
  remotes?: ReadonlyMap<string, readonly RemoteService[]>
  /** On a hub: whether every peer is following; if not, the overall is at best degraded. */
  peersFollowing?: boolean
}

export interface Judgement {
  status: Status
  services: JudgedService[]
  /** The earliest instant at which time alone changes this judgement; null if never. */
  nextDeadline: number | null
  /** Heartbeat keys (`service/instance`) of instances silent long enough to be dropped. */
  forget: string[]
  /** Per service: every name an instance answers to in `?instance=` -> the instance's id. */
  aliases: Map<string, ReadonlyMap<string, string>>
  /** Per reported service: its heartbeat timeout (file, then labels, then HEARTBEAT_TIMEOUT). */
  heartbeatTimeouts: Map<string, number>
}

export function heartbeatKey(service: string, instance: string): string {
  return `${service}/${instance}`
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = groups.get(k)
    if (list) list.push(item)
    else groups.set(k, [item])
  }
  return groups
}

export function judge(obs: Observations, config: ModelConfig, now: number): Judgement {
  const staleness = dockerStaleness(obs.docker, config, now)
  const containers = [...obs.containers].filter((c) => !c.oneoff)
  const containersByService = groupBy(containers, (c) => c.service)
  const heartbeatsByService = groupBy(obs.heartbeats, (hb) => hb.service)
  const ctx: ServiceContext = {
    config,
    docker: obs.docker,
    stale: staleness.stale,
    awaitedAsJobs: servicesAwaitedAsJobs(containers),
    bridgeStartedAt: obs.bridgeStartedAt,
  }
  const serviceNames = new Set<string>([
    ...containersByService.keys(),
    ...heartbeatsByService.keys(),
    ...Object.keys(config.services),
    ...(obs.remotes?.keys() ?? []),
  ])
  let nextDeadline = staleness.until
  const services: JudgedService[] = []
  const forget: string[] = []
  const aliases = new Map<string, ReadonlyMap<string, string>>()
  const heartbeatTimeouts = new Map<string, number>()
  for (const name of [...serviceNames].sort()) {
    const judged = judgeService(
      name,
      containersByService.get(name) ?? [],
      heartbeatsByService.get(name) ?? [],
      ctx,
      now,
      obs.remotes?.get(name) ?? []
    )
    for (const instance of judged.forget) forget.push(heartbeatKey(name, instance))
    if (judged.service === null) continue
    services.push(judged.service)
    nextDeadline = earliest(nextDeadline, judged.until)
    aliases.set(name, judged.aliases)
    heartbeatTimeouts.set(name, judged.heartbeatTimeoutMs)
  }
  const byName = new Map(services.map((s) => [s.name, s]))
  const withImpact = services.map((s) => ({ ...s, impactedBy: impactOf(s.name, byName) }))
  const dockerPending = obs.docker.state !== 'disabled' && !obs.docker.synced
  return {
    status: overallStatus(withImpact, dockerPending, obs.peersFollowing ?? true),
    services: withImpact,
    nextDeadline,
    forget,
    aliases,
    heartbeatTimeouts,
  }
}
