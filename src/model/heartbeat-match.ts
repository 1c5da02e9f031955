/**
 * Which observed thing a heartbeat speaks for: one of the service's containers on this host, or
 * on a hub an instance a peer reports. The store's index and the fuzz tests use the same rule.
 */
import type { ContainerObservation, HeartbeatObservation } from './observations.js'
import type { RemoteInstance, RemoteService } from './remote.js'

/** The shortest container id prefix a heartbeat's `instance` may use to name its container. */
export const MIN_ID_PREFIX = 12

/** The matching rule: id (or a 12+ character prefix), name, or a hostname unique in the service. */
export function matches(
  instance: string,
  c: ContainerObservation,
  hostnameUnique: boolean
): boolean {
  return (
    instance === c.id ||
    (instance.length >= MIN_ID_PREFIX && c.id.startsWith(instance)) ||
    instance === c.name ||
    (hostnameUnique && instance === c.hostname)
  )
}

/** How many of the service's containers have each hostname: a shared one names none of them. */
export function hostnameCounts(containers: readonly ContainerObservation[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const c of containers)
    if (c.hostname) counts.set(c.hostname, (counts.get(c.hostname) ?? 0) + 1)
  return counts
}

/** The container a heartbeat speaks for, if any. */
export function containerOf(
  hb: HeartbeatObservation,
  containers: readonly ContainerObservation[],
  hostnames: ReadonlyMap<string, number>
): ContainerObservation | undefined {
  const found = containers.find((c) =>
    matches(hb.instance, c, c.hostname !== null && hostnames.get(c.hostname) === 1)
  )
  if (found) return found
  // A sender that does not name its instance speaks for the service's only container.
  return hb.instance === 'default' && containers.length === 1 ? containers[0] : undefined
}

/**
 * A heartbeat sent to the hub for an instance a peer reports: its container's id (or a 12+
 * character prefix), or its name where no other host has a container of that name (replicas
 * share names across hosts: `clp-package-x-query-worker-1` on every worker).
 */
export function remoteOf(
  hb: HeartbeatObservation,
  remotes: readonly RemoteService[]
): RemoteInstance | undefined {
  let byName: RemoteInstance | undefined
  let names = 0
  for (const r of remotes) {
    for (const i of r.instances) {
      const id = i.containerId
      if (id === null) continue
      if (
        hb.instance === id ||
        (hb.instance.length >= MIN_ID_PREFIX && id.startsWith(hb.instance))
      ) {
        return i
      }
      if (hb.instance === i.containerName) {
        byName = i
        names++
      }
    }
  }
  return names === 1 ? byName : undefined
}
