/**
 * Judging the stack from its judged services: the overall status and `impactedBy`. Pure and
 * O(services + dependency edges), never O(instances), so the store can afford it on every flush.
 */
import type { JudgedService } from './judged.js'
import { worse, type Status } from './status.js'

type Rolled = Pick<JudgedService, 'status' | 'critical'>

/**
 * Unhealthy if a critical service is unhealthy; unknown if a critical one is unknown (a blind
 * bridge must not answer 200); degraded if any is degraded, or a non-critical one is unhealthy
 * or unknown; starting if any is starting; else healthy. Until the first Docker sync the picture
 * is incomplete, so the answer is at best `starting`; on a hub, while any peer is not
 * following, the picture may be missing a host, so it is at best `degraded`.
 */
export function overallStatus(
  services: Iterable<Rolled>,
  dockerPending: boolean,
  peersFollowing = true
): Status {
  let criticalUnhealthy = false
  let criticalUnknown = false
  let degraded = false
  let starting = false
  for (const s of services) {
    if (s.status === 'unhealthy' || s.status === 'unknown') {
      if (!s.critical) degraded = true
      else if (s.status === 'unhealthy') criticalUnhealthy = true
      else criticalUnknown = true
    } else if (s.status === 'degraded') degraded = true
    else if (s.status === 'starting') starting = true
  }
  let status: Status = 'healthy'
  if (criticalUnhealthy) status = 'unhealthy'
  else if (criticalUnknown) status = 'unknown'
  else if (degraded) status = 'degraded'
  else if (starting) status = 'starting'
  if (!peersFollowing) status = worse(status, 'degraded')
  return dockerPending ? worse(status, 'starting') : status
}

type Node = Pick<JudgedService, 'status' | 'dependsOn'>

/** Unhealthy services that `name` depends on, directly or transitively, sorted. */
export function impactOf(name: string, byName: { get(name: string): Node | undefined }): string[] {
  const seen = new Set<string>([name])
  const impacted: string[] = []
  const queue = [...(byName.get(name)?.dependsOn ?? [])]
  for (let i = 0; i < queue.length; i++) {
    const dep = queue[i] as string
    if (seen.has(dep)) continue
    seen.add(dep)
    const svc = byName.get(dep)
    if (!svc) continue
    if (svc.status === 'unhealthy') impacted.push(dep)
    queue.push(...svc.dependsOn)
  }
  return impacted.sort()
}

/** Every service that depends on one of `changed`, directly or transitively. */
export function dependentsOf(
  changed: Iterable<string>,
  dependents: ReadonlyMap<string, ReadonlySet<string>>
): Set<string> {
  const out = new Set<string>()
  const queue = [...changed]
  for (let i = 0; i < queue.length; i++) {
    for (const d of dependents.get(queue[i] as string) ?? []) {
      if (out.has(d)) continue
      out.add(d)
      queue.push(d)
    }
  }
  return out
}
