/**
 * What the model returns: judged instances and services in the model's own terms (epoch ms,
 * observations by reference). `src/render/` turns them into the wire document; the model never
 * builds wire shapes, so a change of the JSON format does not ripple into the judgement.
 */
import type { JobJudgement } from './job.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteInstance } from './remote.js'
import type { ServiceKind } from './settings.js'
import type { Status } from './status.js'

export interface JudgedInstance {
  /** The instance's id in the document: the container name, or the heartbeat's instance. */
  id: string
  /** BRIDGE_NAME of the bridge that observed it. */
  host: string
  status: Status
  message: string
  /** The container behind the instance, and its restarts within CRASHLOOP_WINDOW now. */
  container: ContainerObservation | null
  recentRestarts: number
  /**
   * Heartbeat side: `last` is the latest report, null while one is expected but none came;
   * `expected` whether the service is configured to report (label or config file). The whole
   * part is null when the instance neither reports nor is expected to.
   */
  heartbeat: { last: HeartbeatObservation | null; timeoutMs: number; expected: boolean } | null
  /** On a hub: the instance as a peer reported it (status and message may be the hub's). */
  remote: RemoteInstance | null
}

export interface JudgedService {
  name: string
  status: Status
  kind: ServiceKind
  critical: boolean
  message: string
  dependsOn: readonly string[]
  /** Unhealthy services this one depends on, directly or transitively (the stack's part). */
  impactedBy: readonly string[]
  job: JobJudgement | null
  instances: readonly JudgedInstance[]
}
