import type { ContainerObservation, ServiceLabels } from './observations.js'

/** What a service is: long-running, or a job that must complete (an init job). */
export const SERVICE_KINDS = ['service', 'job'] as const
export type ServiceKind = (typeof SERVICE_KINDS)[number]

/**
 * Per-service settings from the configuration (CONFIG_FILE): the model's own shape, which the
 * config loader produces. Durations in milliseconds; every key optional.
 */
export interface ServiceOverrides {
  role?: ServiceKind | undefined
  critical?: boolean | undefined
  heartbeat?: boolean | undefined
  heartbeatTimeout?: number | undefined
  jobTimeout?: number | undefined
  dependsOn?: readonly string[] | undefined
  ignore?: boolean | undefined
  /** Not reported while nothing of it is seen (disabled, or on another host). */
  optional?: boolean | undefined
}

/** What the model is configured with: a slice of `Config`, so the model stays a pure function. */
export interface ModelConfig {
  /** BRIDGE_NAME: the `host` of every instance this bridge observes itself. */
  bridgeName: string
  heartbeatTimeoutMs: number
  startupGraceMs: number
  crashloopRestarts: number
  crashloopWindowMs: number
  /** CRASHLOOP_STABLE_AFTER: running this long since the last restart ends a crash loop. */
  crashloopStableAfterMs: number
  dockerStaleAfterMs: number
  services: Readonly<Record<string, ServiceOverrides>>
}

/** The effective settings of one service: config file, then labels, then defaults. */
export interface ServiceSettings {
  kind: ServiceKind
  critical: boolean
  heartbeatExpected: boolean
  heartbeatTimeoutMs: number
  jobTimeoutMs: number | null
  dependsOn: readonly string[]
  ignored: boolean
}

/** Services that another service waits for with `service_completed_successfully`: init jobs. */
export function servicesAwaitedAsJobs(containers: Iterable<ContainerObservation>): Set<string> {
  const jobs = new Set<string>()
  for (const c of containers) {
    for (const d of c.dependsOn)
      if (d.condition === 'service_completed_successfully') jobs.add(d.service)
  }
  return jobs
}

/** Labels of the newest container speak for the service (replicas share their compose labels). */
function newestLabels(containers: readonly ContainerObservation[]): ServiceLabels {
  let newest: ContainerObservation | undefined
  for (const c of containers) {
    if (newest === undefined || (c.createdAt ?? 0) > (newest.createdAt ?? 0)) newest = c
  }
  return newest?.labels ?? {}
}

/**
 * Whether the configuration says the service must exist. One marked `optional` (disabled with
 * `replicas: 0`, or placed on another host) is reported only while something of it is seen.
 */
export function declared(name: string, config: ModelConfig): boolean {
  return declaredIn(config.services[name])
}

function declaredIn(file: ServiceOverrides | undefined): boolean {
  return file !== undefined && file.optional !== true
}

export function resolveServiceSettings(
  name: string,
  containers: readonly ContainerObservation[],
  awaitedAsJobs: ReadonlySet<string>,
  config: ModelConfig,
  dockerEnabled: boolean
): ServiceSettings {
  const file = config.services[name]
  const labels = newestLabels(containers)
  const dependsOn = file?.dependsOn ?? [
    ...new Set(containers.flatMap((c) => c.dependsOn.map((d) => d.service))),
  ]
  return {
    kind: file?.role ?? labels.role ?? (awaitedAsJobs.has(name) ? 'job' : 'service'),
    critical: file?.critical ?? labels.critical ?? true,
    // Without Docker, a service declared in the file can only be observed through heartbeats.
    heartbeatExpected: file?.heartbeat ?? labels.heartbeat ?? (!dockerEnabled && declaredIn(file)),
    heartbeatTimeoutMs:
      file?.heartbeatTimeout ?? labels.heartbeatTimeoutMs ?? config.heartbeatTimeoutMs,
    jobTimeoutMs: file?.jobTimeout ?? labels.jobTimeoutMs ?? null,
    dependsOn: dependsOn.filter((d) => d !== name).sort(),
    ignored: file?.ignore ?? labels.ignore ?? false,
  }
}
