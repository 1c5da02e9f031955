/**
 * Entry point of the Docker source for `bridge.ts`: decides whether Docker is used at all
 * (DOCKER=off|auto|on), which compose project is watched, and builds the source.
 * How the watcher works and recovers: docs/docker-source.md.
 */
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'

import { systemClock, type Clock } from '../../clock.js'
import type { Config } from '../../config/config.js'
import type { Logger } from '../../logger.js'
import { DOCKER_DISABLED } from '../../model/observations.js'
import type { ContainerSink, DockerSourceEvents, HealthSource } from '../source.js'

import { DockerodeApi, type DockerApi, type EngineInfo } from './docker-api.js'
import { DockerSource } from './docker-source.js'
import { describeError } from './errors.js'
import { findOwnProject, type SelfProbe } from './find-project.js'

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
  /** For tests: another engine client, or another way to look at our own process. */
  api?: DockerApi
  self?: SelfProbe
}

/** Start-up must stay instant without an engine: the first look is bounded by this. */
export const STARTUP_PROBE_MS = 2000

/**
 * DOCKER=off -> sets a disabled status on the sink, returns null. DOCKER=auto and no engine
 * reachable or no project determinable -> one warning, disabled status with detail, returns null.
 * DOCKER=on and no project determinable -> throws an Error whose message is one line.
 * Otherwise returns a source that is ready to start.
 */
export async function createDockerSource(deps: DockerSourceDeps): Promise<HealthSource | null> {
  const { config, sink } = deps
  const log = deps.logger.child({ module: 'docker-source' })
  const disable = (detail: string) => {
    sink.setDockerStatus({ ...DOCKER_DISABLED, detail })
  }
  if (config.docker === 'off') {
    disable('DOCKER=off')
    log.info('docker source off (DOCKER=off); heartbeat-only')
    return null
  }

  const api = deps.api ?? new DockerodeApi({ dockerHost: config.dockerHost })
  let engine: EngineInfo | null = null
  let unreachable: string | null = null
  try {
    engine = await api.negotiate(AbortSignal.timeout(STARTUP_PROBE_MS))
  } catch (err) {
    unreachable = describeError(err)
  }

  let project = config.composeProjectName
  let via = 'COMPOSE_PROJECT_NAME'
  if (project === null && engine !== null) {
    try {
      const found = await findOwnProject(
        api,
        deps.self ?? procSelf(),
        AbortSignal.timeout(STARTUP_PROBE_MS)
      )
      if (found) {
        project = found.project
        via = `label of own container ${found.containerId.slice(0, 12)}`
      }
    } catch (err) {
      unreachable = describeError(err)
    }
  }

  if (project === null) {
    const why =
      unreachable !== null
        ? `no Docker engine at ${config.dockerHost} (${unreachable}) to find the compose project in`
        : 'not running in a compose container, so no compose project to watch'
    if (config.docker === 'on') {
      // Permission, not the project, is what to fix when the socket refuses our user.
      if (unreachable?.includes('EACCES')) {
        throw new Error(
          `DOCKER=on but permission denied on ${config.dockerHost} (${unreachable}): the bridge's user needs the socket's group (compose: group_add: ["\${DOCKER_GID}"])`
        )
      }
      throw new Error(`DOCKER=on but ${why}: set COMPOSE_PROJECT_NAME`)
    }
    const detail =
      unreachable !== null
        ? `no Docker engine at ${config.dockerHost} (${unreachable})`
        : 'no compose project: set COMPOSE_PROJECT_NAME'
    log.warn({ detail }, `${detail}; running heartbeat-only`)
    disable(detail)
    return null
  }

  if (engine === null && config.docker === 'auto') {
    const detail = `no Docker engine at ${config.dockerHost} (${unreachable ?? 'unreachable'})`
    log.warn({ detail }, `${detail}; running heartbeat-only`)
    disable(detail)
    return null
  }

  // DOCKER=on with an engine that is down right now: the source keeps trying (and gives up
  // after DOCKER_GIVE_UP_AFTER), which is what a restart policy expects of it.
  log.info(
    {
      project,
      via,
      dockerHost: config.dockerHost,
      engine: engine?.version ?? null,
      api: engine?.apiVersion ?? null,
    },
    engine === null
      ? 'watching compose project once the engine answers'
      : 'watching compose project'
  )
  const source = new DockerSource({
    api,
    project,
    sink,
    logger: deps.logger,
    clock: deps.clock ?? systemClock,
    crashloopWindowMs: config.crashloopWindowMs,
    giveUpAfterMs: config.dockerGiveUpAfterMs,
    onGiveUp: deps.onGiveUp,
    notify: deps.notify,
  })
  sink.setDockerStatus(source.currentStatus)
  return source
}

function procSelf(): SelfProbe {
  return {
    hostname: hostname(),
    readFile: async (path) => {
      try {
        return await readFile(path, 'utf8')
      } catch {
        return undefined
      }
    },
  }
}
