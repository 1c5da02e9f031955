/**
 * Entry point of the Docker source for `bridge.ts`: decides whether Docker is used at all
 * (DOCKER=off|auto|on), which compose project is watched, and builds what watches it.
 * How the watcher works and recovers: docs/docker-source.md.
 *
 * | DOCKER | engine at start-up | project          | result                                              |
 * | ------ | ------------------ | ---------------- | --------------------------------------------------- |
 * | off    | not asked          |                  | null, `disabled`                                    |
 * | auto   | answers            | none             | null, `disabled` (one warning)                      |
 * | auto   | does not answer    | set or not (yet) | an `EngineSearch`: heartbeat-only, looking for one  |
 * | on     | either             | none             | throws (one line)                                   |
 * | on     | does not answer    | set              | a `DockerSource` that keeps trying (and gives up)   |
 * | any    | answers            | found            | a `DockerSource`                                    |
 */
import { systemClock, type Clock } from '../../clock.js'
import type { Config } from '../../config/config.js'
import type { Logger } from '../../logger.js'
import { DOCKER_DISABLED } from '../../model/observations.js'
import type { ContainerSink, DockerSourceEvents, HealthSource } from '../source.js'

import type { BackoffOptions } from '../backoff.js'
import { DockerodeApi, type DockerApi } from './docker-api.js'
import { DockerSource } from './docker-source.js'
import { lookForEngine, procSelf, type EngineProbe } from './engine-probe.js'
import { EngineSearch } from './engine-search.js'
import type { SelfProbe } from './find-project.js'

export { DockerSource } from './docker-source.js'

export interface DockerSourceDeps {
  config: Config
  sink: ContainerSink
  logger: Logger
  clock?: Clock
  /** Called once when the engine has been unreachable for config.dockerGiveUpAfterMs (0 = never):
   *  main logs and exits non-zero so the restart policy re-mounts a recreated socket file. */
  onGiveUp?: (reason: string) => void
  /** Told about events and reconnects (the metrics count them). */
  notify?: DockerSourceEvents
  /** For tests: another engine client, another way to look at our own process, a faster search. */
  api?: DockerApi
  self?: SelfProbe
  searchBackoff?: BackoffOptions
}

/** Returns what watches the engine, ready to start; null when Docker is not used (see the table). */
export async function createDockerSource(deps: DockerSourceDeps): Promise<HealthSource | null> {
  const { config, sink } = deps
  const log = deps.logger.child({ module: 'docker-source' })
  if (config.docker === 'off') {
    sink.setDockerStatus({ ...DOCKER_DISABLED, detail: 'DOCKER=off' })
    log.info('docker source off (DOCKER=off); heartbeat-only')
    return null
  }
  const api = deps.api ?? new DockerodeApi({ dockerHost: config.dockerHost })
  const self = deps.self ?? procSelf()
  const look = (signal: AbortSignal) => lookForEngine(api, config, self, signal)
  const first = await look(new AbortController().signal)
  const reached = first.unreachable === null
  if (!reached && config.docker === 'auto') return searchInBackground(first, look, api, deps, log)
  if (first.project === null) return noProject(first, deps, log)
  // DOCKER=on with an engine that is down right now: the source keeps trying (and gives up
  // after DOCKER_GIVE_UP_AFTER), which is what a restart policy expects of it.
  log.info(
    watchFields(first, config),
    reached ? 'watching compose project' : 'watching compose project once the engine answers'
  )
  return watch(first.project, api, deps)
}

function searchInBackground(
  first: EngineProbe,
  look: (signal: AbortSignal) => Promise<EngineProbe>,
  api: DockerApi,
  deps: DockerSourceDeps,
  log: Logger
): EngineSearch {
  const search = new EngineSearch(
    {
      dockerHost: deps.config.dockerHost,
      look,
      watch: (found) => watch(found.project, api, deps),
      noProject: (probe) => {
        noProject(probe, deps, log)
      },
      sink: deps.sink,
      log,
      ...(deps.searchBackoff ? { backoff: deps.searchBackoff } : {}),
    },
    first
  )
  const detail = search.status.detail
  log.warn(
    { detail },
    'no Docker engine; running heartbeat-only, looking for one in the background'
  )
  deps.sink.setDockerStatus(search.status)
  return search
}

/** DOCKER=on refuses to start without a project; DOCKER=auto runs heartbeat-only. */
function noProject(probe: EngineProbe, deps: DockerSourceDeps, log: Logger): null {
  const { config, sink } = deps
  const { unreachable } = probe
  if (config.docker === 'on') {
    // Permission, not the project, is what to fix when the socket refuses our user.
    if (unreachable?.includes('EACCES')) {
      throw new Error(
        `DOCKER=on but permission denied on ${config.dockerHost} (${unreachable}): the bridge's user needs the socket's group (compose: group_add: ["\${DOCKER_GID}"])`
      )
    }
    const why =
      unreachable !== null
        ? `no Docker engine at ${config.dockerHost} (${unreachable}) to find the compose project in`
        : 'not running in a compose container, so no compose project to watch'
    throw new Error(`DOCKER=on but ${why}: set COMPOSE_PROJECT_NAME`)
  }
  const detail = 'no compose project: set COMPOSE_PROJECT_NAME'
  log.warn({ detail }, `${detail}; running heartbeat-only`)
  sink.setDockerStatus({ ...DOCKER_DISABLED, detail })
  return null
}

function watch(project: string, api: DockerApi, deps: DockerSourceDeps): DockerSource {
  const { config, sink } = deps
  const source = new DockerSource({
    api,
    project,
    sink,
    logger: deps.logger,
    clock: deps.clock ?? systemClock,
    crashloopWindowMs: config.crashloopWindowMs,
    giveUpAfterMs: config.dockerGiveUpAfterMs,
    reconcileEveryMs: config.dockerReconcileEveryMs,
    onGiveUp: deps.onGiveUp,
    notify: deps.notify,
  })
  sink.setDockerStatus(source.currentStatus)
  return source
}

function watchFields(probe: EngineProbe, config: Config): Record<string, unknown> {
  return {
    project: probe.project,
    via: probe.via,
    dockerHost: config.dockerHost,
    engine: probe.engine?.version ?? null,
    api: probe.engine?.apiVersion ?? null,
  }
}
