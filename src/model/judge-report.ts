/**
 * What the `202` answer to a heartbeat says: the status of the instance it belongs to, by the
 * rules the document uses, so it agrees with what `GET /health` says about that instance.
 */
import { containerOf, hostnameCounts } from './heartbeat-match.js'
import { judgeContainerInstance, judgeReportedInstance, type Judging } from './judge-instance.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { ServiceContext } from './service-context.js'
import type { ServiceSettings } from './settings.js'
import { verdict, type Verdict } from './verdict.js'

/**
 * The status of the instance a just-received heartbeat belongs to: matched with its container
 * and merged, or an instance of its own.
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
