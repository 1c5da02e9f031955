/**
 * One look for the engine and the project to watch in it: `GET /version` (which also negotiates
 * the API version), and, when COMPOSE_PROJECT_NAME is unset, the bridge's own container's
 * compose label. Used at start-up and, with DOCKER=auto, by the background search.
 */
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'

import type { Config } from '../../config/config.js'

import { withTimeout } from '../async.js'
import type { DockerApi, EngineInfo } from './docker-api.js'
import { describeError } from '../errors.js'
import { findOwnProject, type SelfProbe } from './find-project.js'

/** Start-up must stay instant without an engine: each request of a look is bounded by this. */
export const STARTUP_PROBE_MS = 2000

export interface EngineProbe {
  /** The engine's answer to `GET /version`; null when it gave none. */
  engine: EngineInfo | null
  /** Why the engine could not be reached or asked (one line); null when it answered everything. */
  unreachable: string | null
  /** The project to watch; null when none is configured and none could be found. */
  project: string | null
  /** How the project was found, for the log. */
  via: string
}

export async function lookForEngine(
  api: DockerApi,
  config: Pick<Config, 'composeProjectName'>,
  self: SelfProbe,
  signal: AbortSignal
): Promise<EngineProbe> {
  let engine: EngineInfo | null = null
  let unreachable: string | null = null
  try {
    engine = await withTimeout(STARTUP_PROBE_MS, signal, (s) => api.negotiate(s))
  } catch (err) {
    unreachable = describeError(err)
  }
  let project = config.composeProjectName
  let via = 'COMPOSE_PROJECT_NAME'
  if (project === null && engine !== null) {
    try {
      const found = await withTimeout(STARTUP_PROBE_MS, signal, (s) => findOwnProject(api, self, s))
      if (found) {
        project = found.project
        via = `label of own container ${found.containerId.slice(0, 12)}`
      }
    } catch (err) {
      unreachable = describeError(err)
    }
  }
  return { engine, unreachable, project, via }
}

/** How the bridge looks at its own process: hostname and /proc. */
export function procSelf(): SelfProbe {
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
