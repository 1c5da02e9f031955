/**
 * What a hub learns from its peers, in the model's terms: each peer's judged services and
 * instances, already decided by the bridge that observed them. The hub merges them with what it
 * observes itself (`judge-service.ts`), so one service spans every host.
 */
import type { JobJudgement } from './job.js'
import type { ServiceKind } from './settings.js'
import type { Status } from './status.js'

export interface RemoteInstance {
  /** Unique in the merged document: the peer's id qualified with its host (`id@host`). */
  id: string
  host: string
  status: Status
  message: string
  /** Its container, when the peer saw one (a hub heartbeat may name it). */
  containerId: string | null
  containerName: string | null
  /** Epoch ms of its latest run or report: a job's status is its most recent run's. */
  recency: number
  job: JobJudgement | null
  /** The peer's own object for it, passed through to the document (opaque to the model). */
  view: unknown
}

export interface RemoteService {
  /** The peer that reported it. */
  peer: string
  /** Since when the peer is unreachable, once it is lost: its instances are then unknown. */
  lostSince: number | null
  kind: ServiceKind
  critical: boolean
  dependsOn: readonly string[]
  status: Status
  message: string
  instances: readonly RemoteInstance[]
}
