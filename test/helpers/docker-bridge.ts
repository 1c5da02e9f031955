/**
 * A real bridge (store + Docker source + HTTP on a free port) watching one compose project,
 * started and (unless asked not to wait) already following the engine's events, and
 * the few ways tests look at it: `GET /health` parsed by the contract's own schema, one service,
 * and waiting until a service says what the test expects.
 */
import { startBridge, type RunningBridge } from '../../src/bridge.js'
import { loadConfig } from '../../src/config/config.js'
import { healthDocumentSchema, type HealthDocument } from '../../src/wire/health-document.js'

import { DOCKER_SOCKET } from './docker.js'
import { memoryLogger } from './log-sink.js'
import { waitFor } from './wait-for.js'

export type ServiceDoc = HealthDocument['services'][number]

export interface DockerBridge {
  bridge: RunningBridge
  /** Every log line the bridge wrote, parsed. */
  lines: Record<string, unknown>[]
  /** Raw log lines, for "never logged" assertions. */
  raw: string[]
  health(): Promise<HealthDocument>
  service(name: string): Promise<ServiceDoc | undefined>
  /** Waits until `check` holds for the service (or for its absence when it is undefined). */
  waitForService(
    name: string,
    check: (s: ServiceDoc | undefined) => boolean,
    what: string,
    timeoutMs?: number
  ): Promise<ServiceDoc | undefined>
  stop(): Promise<void>
}

export interface StartOptions {
  /** Wait until the Docker source follows (default); false for a bridge that has no engine yet. */
  follow?: boolean
}

export async function startDockerBridge(
  project: string,
  env: Record<string, string> = {},
  socket = DOCKER_SOCKET,
  opts: StartOptions = {}
): Promise<DockerBridge> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DOCKER: 'on',
    DOCKER_HOST: `unix://${socket}`,
    COMPOSE_PROJECT_NAME: project,
    CRASHLOOP_WINDOW: '1m',
    DOCKER_STALE_AFTER: '1s',
    ...env,
  })
  const { logger, lines, raw } = memoryLogger('debug')
  const bridge = await startBridge({ config, logger })
  const health = async () => {
    const res = await fetch(`${bridge.url}/health`)
    return healthDocumentSchema.parse(await res.json())
  }
  const service = async (name: string) => (await health()).services.find((s) => s.name === name)
  if (opts.follow ?? true) {
    await waitFor(async () => (await health()).bridge.sources.docker.state === 'following', {
      timeoutMs: 10_000,
      what: 'the Docker source to follow',
    })
  }
  let last: ServiceDoc | undefined
  return {
    bridge,
    lines,
    raw,
    health,
    service,
    waitForService: async (name, check, what, timeoutMs = 20_000) => {
      let result: ServiceDoc | undefined
      await waitFor(
        async () => {
          last = await service(name)
          if (!check(last)) return false
          result = last
          return true
        },
        {
          timeoutMs,
          intervalMs: 5,
          what: `${name}: ${what}`,
        }
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(summary(last))}`)
      })
      return result
    },
    stop: () => bridge.stop(),
  }
}

export interface HealthSample {
  /** When the answer arrived (the bridge judged it at or before then). */
  at: number
  doc: HealthDocument
}

/**
 * Polls `GET /health` in the background until stopped, keeping every answer with the time it
 * arrived: what a dashboard polling the bridge would have seen, for "never" and "not before"
 * assertions. Ends by itself when the bridge stops (a test that failed half-way).
 */
export function pollHealth(hb: DockerBridge, everyMs = 10) {
  const samples: HealthSample[] = []
  const controller = new AbortController()
  const loop = (async () => {
    while (!controller.signal.aborted) {
      const doc = await hb.health().catch(() => null)
      if (doc === null) break
      samples.push({ at: Date.now(), doc })
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    samples,
    stop: async () => {
      controller.abort()
      await loop
    },
  }
}

/** What a failure message needs of a service: status, message and its instances' states. */
export function summary(s: ServiceDoc | undefined): unknown {
  if (!s) return null
  return {
    status: s.status,
    message: s.message,
    kind: s.kind,
    instances: s.instances.map((i) => ({
      id: i.id,
      status: i.status,
      message: i.message,
      state: i.docker?.state,
      health: i.docker?.health,
    })),
  }
}
