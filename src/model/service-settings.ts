/**
 * The settings one service is judged with: `settings.ts` resolves them from the config file and
 * what this host sees; on a hub, what the peers report of the service is merged in.
 */
import type { ContainerObservation } from './observations.js'
import type { RemoteService } from './remote.js'
import type { ServiceContext } from './service-context.js'
import { resolveServiceSettings, type ServiceSettings } from './settings.js'

/**
 * The service's settings: the config file, then what this host sees (labels, depends_on), then
 * what peers report (on a hub). A job on any host makes it a job; it is critical unless every
 * host that knows it says otherwise; its dependencies are the union of every host's.
 */
export function serviceSettings(
  name: string,
  containers: readonly ContainerObservation[],
  ctx: ServiceContext,
  remotes: readonly RemoteService[] = []
): ServiceSettings {
  const dockerEnabled = ctx.docker.state !== 'disabled'
  const local = resolveServiceSettings(
    name,
    containers,
    ctx.awaitedAsJobs,
    ctx.config,
    dockerEnabled
  )
  if (remotes.length === 0) return local
  const file = ctx.config.services[name]
  const localEvidence = containers.length > 0
  const dependsOn = new Set(local.dependsOn)
  if (file?.dependsOn === undefined)
    for (const r of remotes) for (const d of r.dependsOn) dependsOn.add(d)
  dependsOn.delete(name)
  return {
    ...local,
    kind:
      file?.role ??
      (local.kind === 'job' || remotes.some((r) => r.kind === 'job') ? 'job' : 'service'),
    critical: file?.critical ?? (localEvidence ? local.critical : remotes.some((r) => r.critical)),
    dependsOn: [...dependsOn].sort(),
  }
}
