import type {
  ContainerObservation,
  DockerSourceStatus,
  HeartbeatObservation,
} from '../../src/model/observations.js'
import type { ModelConfig } from '../../src/model/settings.js'

export const T0 = Date.parse('2026-11-21T10:00:00.000Z')
export const s = (n: number) => n * 1000
export const m = (n: number) => n * 60_000

export function modelConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    bridgeName: 'test-host',
    heartbeatTimeoutMs: s(30),
    startupGraceMs: s(30),
    crashloopRestarts: 2,
    crashloopWindowMs: m(15),
    crashloopStableAfterMs: m(5),
    dockerStaleAfterMs: s(10),
    services: {},
    ...over,
  }
}

let seq = 0
/** A running container of `service` without healthcheck; override what the test is about. */
export function container(
  service: string,
  over: Partial<ContainerObservation> = {}
): ContainerObservation {
  seq++
  const number = over.number ?? 1
  const id = over.id ?? `${seq.toString(16).padStart(4, '0')}${'a'.repeat(60)}`
  return {
    id,
    name: `proj-${service}-${number}`,
    service,
    number,
    hostname: id.slice(0, 12),
    oneoff: false,
    state: 'running',
    health: 'none',
    failingStreak: 0,
    lastProbeOutput: null,
    lastProbeExitCode: null,
    exitCode: 0,
    oomKilled: false,
    restartCount: 0,
    restarts: [],
    createdAt: T0 - m(5),
    startedAt: T0 - m(5),
    finishedAt: null,
    labels: {},
    dependsOn: [],
    ips: [],
    ...over,
  }
}

export function heartbeat(
  service: string,
  over: Partial<HeartbeatObservation> = {}
): HeartbeatObservation {
  return {
    service,
    instance: 'default',
    receivedAt: T0,
    reported: 'healthy',
    error: null,
    details: null,
    clockSkewSeconds: null,
    remoteAddress: null,
    ...over,
  }
}

export function following(over: Partial<DockerSourceStatus> = {}): DockerSourceStatus {
  return {
    state: 'following',
    project: 'proj',
    lastEventAt: null,
    unreachableSince: null,
    synced: true,
    detail: null,
    ...over,
  }
}
