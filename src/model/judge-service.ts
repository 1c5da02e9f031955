/**
 * Judging one service: its settings (`service-settings.ts`), its instances (containers and
 * heartbeats, matched and merged: `service-instances.ts`), its roll-up (`service-rollup.ts`),
 * and the instant at which time alone changes any of that. Pure; the store calls it for the
 * services that changed or fell due, and `judge()` for all of them.
 */
import type { JudgedService } from './judged.js'
import type { Judging } from './judge-instance.js'
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import { buildInstances } from './service-instances.js'
import { rollUpService } from './service-rollup.js'
import { serviceSettings } from './service-settings.js'
import { declared } from './settings.js'
import { earliest } from './verdict.js'

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
  const { verdict: v, job } = rollUpService(name, built, containers, remotes, settings, ctx, now)
  // Only a service without instances has a verdict of its own that time alone may change.
  const until = earliest(...built.map((b) => b.until), v.until)
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
