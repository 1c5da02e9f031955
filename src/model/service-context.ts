/**
 * What judging one service needs to know about the rest of the stack. The store builds it once
 * per re-judge (`HealthStore`), `judge()` once per from-scratch judgement.
 */
import type { DockerSourceStatus } from './observations.js'
import type { ModelConfig } from './settings.js'
import type { Verdict } from './verdict.js'

export interface ServiceContext {
  config: ModelConfig
  docker: DockerSourceStatus
  /** The verdict every Docker-judged part gets while the engine is stale; null while fresh. */
  stale: Verdict | null
  /** Services another one awaits with `service_completed_successfully`: jobs. */
  awaitedAsJobs: ReadonlySet<string>
  bridgeStartedAt: number
}
